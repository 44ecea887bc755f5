import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { builtinConnectors } from "../connectors/builtins.js";
import { ConfigError, parseConfig, type Config } from "../config/config.js";
import { createLogger, type LogLevel } from "../log/logger.js";
import { createConnectorRegistry } from "../registry/connector-registry.js";
import { createServer } from "../service/create-server.js";
import { connectorTable } from "./banner.js";
import { loadConnectorModules } from "./load-modules.js";

export const SERVE_USAGE = `Usage: flyte-connect serve [options]

Serves the registered connectors over gRPC (h2c or TLS), gRPC-Web and Connect on one port.

Options:
  --port <n>                 port to listen on (default 8000; 0 picks a free one)
  --host <addr>              interface to listen on (default 0.0.0.0)
  --modules <spec>           file or package exporting "connectors"; repeat or separate with commas
  --no-builtins              do not register the built-in connectors
  --tls-key <file>           PEM private key: serve TLS (ALPN h2 and http/1.1)
  --tls-cert <file>          PEM certificate chain, with --tls-key
  --cors-origin <origin>     allow browsers from this origin; repeat; "*" for any
  --max-message-bytes <n>    largest request accepted (default 16777216)
  --max-response-bytes <n>   largest GetTask response (default 4194304, the executor's limit)
  --drain-timeout-ms <n>     grace period for in-flight calls on SIGTERM (default 20000)
  --log-level <level>        trace, debug, info, warn, error, fatal or silent (default info)
  -h, --help                 show this help
`;

/** Turns `serve` arguments into a configuration; file arguments are read here. */
export function configFromServeArgs(argv: readonly string[]): Config {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: "string" },
      host: { type: "string" },
      modules: { type: "string", multiple: true },
      "no-builtins": { type: "boolean" },
      "tls-key": { type: "string" },
      "tls-cert": { type: "string" },
      "cors-origin": { type: "string", multiple: true },
      "max-message-bytes": { type: "string" },
      "max-response-bytes": { type: "string" },
      "drain-timeout-ms": { type: "string" },
      "log-level": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  const problems: string[] = [];
  const num = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) problems.push(`--${flag} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const read = (flag: string, path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      problems.push(`--${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      return undefined;
    }
  };
  const key = read("tls-key", values["tls-key"]);
  const cert = read("tls-cert", values["tls-cert"]);
  if ((values["tls-key"] === undefined) !== (values["tls-cert"] === undefined)) problems.push("--tls-key and --tls-cert go together");
  const input: Partial<Config> = {
    host: values.host,
    port: num("port", values.port),
    modules: (values.modules ?? []).flatMap((m) => m.split(",")).map((m) => m.trim()).filter((m) => m !== ""),
    builtins: values["no-builtins"] ? false : undefined,
    tls: key !== undefined && cert !== undefined ? { key, cert } : undefined,
    corsOrigins: values["cors-origin"],
    maxMessageBytes: num("max-message-bytes", values["max-message-bytes"]),
    maxResponseBytes: num("max-response-bytes", values["max-response-bytes"]),
    drainTimeoutMs: num("drain-timeout-ms", values["drain-timeout-ms"]),
    logLevel: values["log-level"] as LogLevel | undefined,
  };
  try {
    const config = parseConfig(input);
    if (problems.length > 0) throw new ConfigError(problems);
    return config;
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError([...problems, ...e.problems.filter((p) => !problems.includes(p))]);
    throw e;
  }
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
  const registry = createConnectorRegistry(config.builtins ? builtinConnectors() : []);
  await loadConnectorModules(config.modules, registry);
  const server = await createServer(config, registry, { log });
  const address = await server.listen();
  process.stdout.write(`${connectorTable(registry.list())}\n`);
  log.info({ url: address.url, tls: config.tls !== undefined, connectors: registry.connectors().length }, "flyte-connect is serving");

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
      server.close().then(
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
