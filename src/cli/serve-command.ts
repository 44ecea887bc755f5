import { parseArgs } from "node:util";
import type { Config } from "../config/config.js";
import { loadConfig, type ConfigSources } from "../config/load-config.js";
import { settingsParseArgsOptions } from "../config/settings.js";
import { createLogger } from "../log/logger.js";
import { createServer } from "../service/create-server.js";
import { connectorTable } from "./banner.js";
import { connectorRegistryFrom } from "../registry/load-modules.js";
import { startupError } from "./startup-error.js";

export const SERVE_USAGE = `Usage: flyte-connect serve [options]

Serves the registered connectors over gRPC (h2c or TLS), gRPC-Web and Connect on one port, and Prometheus
metrics on another. Every option can also be set by an environment variable (FLYTE_CONNECT_ and the option
in capitals with underscores, such as FLYTE_CONNECT_METRICS_PORT) or in a JSON config file; flags win over
the environment, which wins over the file. See docs/operations.md.

Options:
  --config <file>                JSON config file (also FLYTE_CONNECT_CONFIG)
  --port <n>                     port to listen on (default 8000; 0 picks a free one)
  --host <addr>                  interface to listen on (default 0.0.0.0)
  --modules <spec>               file or package exporting "connectors"; repeat or separate with commas
  --no-builtins                  do not register the built-in connectors
  --no-dashboard                 do not serve the status dashboard at /
  --no-grpc-fast-path            serve unary gRPC through connect too (for comparison)
  --tls-key <file>               PEM private key: serve TLS (ALPN h2 and http/1.1)
  --tls-cert <file>              PEM certificate chain, with --tls-key
  --tls-client-ca <file>         PEM CA: require client certificates it signed (mutual TLS)
  --auth-token-file <file>       require "Authorization: Bearer <token>", tokens one per line (the token
                                 itself may come from FLYTE_CONNECT_AUTH_TOKEN); health stays open
  --cors-origin <origin>         allow browsers from this origin; repeat; "*" for any
  --max-message-bytes <n>        largest request accepted (default 4194304)
  --max-response-bytes <n>       largest GetTask response (default 4194304, the executor's limit); larger
                                 outputs are written to <output_prefix>/outputs.pb
  --max-resource-meta-bytes <n>  largest resource metadata CreateTask returns (default 65536)
  --max-offloaded-literal-bytes <n>  largest offloaded input literal read (default 268435456)
  --s3-endpoint <url>            S3-compatible endpoint (MinIO, Ceph); default AWS
  --s3-force-path-style          path-style S3 requests (most S3-compatible stores need it)
  --s3-region <region>           S3 region (default: AWS_REGION, else us-east-1)
  --gcs-endpoint <url>           GCS JSON API endpoint (default Google Cloud Storage)
  --azure-account <name>         storage account for abfs://container/path URIs (see docs/storage.md)
  --drain-timeout-ms <n>         grace period for in-flight calls on SIGTERM (default 20000)
  --log-level <level>            trace, debug, info, warn, error, fatal or silent (default info)
  --metrics-port <n>             Prometheus port (default 9090; alias --prometheus_port)
  --metrics-host <addr>          interface of the metrics port (default: --host)
  --no-metrics                   serve no metrics port
  --max-concurrent-calls <n>     calls in flight before new ones get RESOURCE_EXHAUSTED (default 2048; 0 off)
  --max-heap-used-bytes <n>      heap in use before new calls get UNAVAILABLE (default 0: 90% of the limit)
  --connector-max-concurrency <n> calls per task type at once (default 0: no limit)
  --connector-timeout-ms <n>     time limit of one connector call (default 60000; 0: the caller's deadline)
  --max-connections <n>          open connections (default 10000; 0 no limit)
  --handshake-timeout-ms <n>     time to the first bytes or the TLS handshake (default 10000)
  --headers-timeout-ms <n>       HTTP/1.1 time to send the headers (default 20000)
  --request-timeout-ms <n>       time to send a whole request (default 60000)
  --keep-alive-timeout-ms <n>    HTTP/1.1 idle keep-alive (default 72000)
  --http2-idle-timeout-ms <n>    close HTTP/2 connections idle this long (default 300000; 0 never)
  --http2-max-concurrent-streams <n>  streams per HTTP/2 connection (default 1000)
  --http2-max-streams-per-connection <n>  streams over a connection's life, then GOAWAY (default 100000; 0 no limit)
  --http2-max-streams-per-second <n>  new streams per connection per second, then it is cut (default 50000; 0 no limit)
  --http2-max-premature-resets <n>  streams reset within 1 s, unanswered, then the connection is cut (default 20; 0 no limit)
  --max-watch-streams <n>        health Watch streams open at once (default 100; 0 no limit)
  --readiness-max-event-loop-delay-ms <n>  event-loop delay that makes health NOT_SERVING (default 2000; 0 off)
  --large-request-bytes <n>      bodies this large count as large (default 1048576)
  --max-concurrent-large-requests <n>  large bodies taken at once; more get RESOURCE_EXHAUSTED (default 2; 0 no limit)
  --large-request-cpu-percent <n>  share of the event loop large requests' decoding and conversion take (default 50)
  --no-large-request-worker      run large requests' connector calls on the event loop, in slices, not on a worker thread
  --secrets-dir <dir>            directory of secret files, one per secret (a mounted Kubernetes Secret)
  --secrets-env-prefix <prefix>  environment variables holding secrets (default FLYTE_CONNECT_SECRET_; "" none)
  --secrets-cache-ttl-ms <n>     how long a secret file is reused before it is read again (default 5000)
  -h, --help                     show this help
`;

/**
 * Turns `serve` arguments into a configuration, with the environment and the config file underneath;
 * `sources` replaces the environment in tests.
 */
export function configFromServeArgs(argv: readonly string[], sources: Omit<ConfigSources, "flags"> = {}): Config {
  const { values } = parseArgs({ args: [...argv], options: settingsParseArgsOptions(), strict: true, allowPositionals: false });
  return loadConfig({ ...sources, flags: values });
}

/**
 * `flyte-connect serve`: start, print the connector table, serve until SIGTERM or SIGINT, then drain and
 * exit 0. Resolves with the exit code once the server has stopped.
 */
export async function serveCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const config = configFromServeArgs(argv);
  const log = createLogger({ level: config.logLevel });
  const connectors = { builtins: config.builtins, modules: config.modules, cwd: process.cwd() };
  const registry = await connectorRegistryFrom(connectors);
  const server = await createServer(config, registry, { log, connectors }).catch((e: unknown) => {
    throw startupError(e, config, "create") ?? e;
  });
  const address = await server.listen().catch(async (e: unknown) => {
    // The service port may be bound already when the metrics port fails: let go of both before exiting.
    const step = server.app.server.listening ? "metrics" : "listen";
    await server.close().catch(() => undefined);
    await registry.close();
    throw startupError(e, config, step) ?? e;
  });
  process.stdout.write(`${connectorTable(registry.list())}\n`);
  log.info(
    {
      url: address.url,
      metricsUrl: address.metricsUrl,
      tls: config.tls !== undefined,
      mtls: config.tls?.clientCa !== undefined,
      auth: config.authTokens.length > 0,
      connectors: registry.connectors().length,
    },
    "flyte-connect is serving",
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, "second signal: exiting without waiting for in-flight calls");
        resolve(1);
        return;
      }
      stopping = true;
      log.info({ signal, drainTimeoutMs: config.drainTimeoutMs }, "draining");
      server
        .close()
        .then(() => registry.close())
        .then(
          () => {
            log.info("stopped");
            resolve(0);
          },
          (e: unknown) => {
            log.error({ err: String(e) }, "error while stopping");
            resolve(1);
          },
        );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
