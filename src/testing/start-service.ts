import { connectorRegistryFrom, type ConnectorSource } from "../registry/load-modules.js";
import { parseConfig, type ConfigInput } from "../config/config.js";
import { silentLogger, type Logger } from "../log/logger.js";
import type { ConnectorRegistry } from "../registry/connector-registry.js";
import { createServer, type ConnectorServer } from "../service/create-server.js";

/** Options of {@link startService}. */
export interface StartServiceOptions {
  /**
   * The connectors to serve, built in code. Connector calls of large requests then run on the event loop:
   * a registry built in code cannot be rebuilt on the large-request worker thread.
   */
  readonly registry?: ConnectorRegistry;
  /**
   * Or where the connectors come from, as `flyte-connect serve` takes them (the built-ins, `--modules`); the
   * default is the built-ins. The large-request worker loads the same ones.
   */
  readonly connectors?: ConnectorSource;
  /** Overrides of the configuration; host, port and metrics port default to 127.0.0.1 and free ports. */
  readonly config?: ConfigInput;
  readonly log?: Logger;
}

/** A running service for tests. */
export interface RunningService {
  /** Base URL, such as `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** `127.0.0.1:41234`, the form gRPC clients take. */
  readonly address: string;
  /** `http://127.0.0.1:41235/metrics`: Prometheus metrics, on a free port of its own; absent with metrics off. */
  readonly metricsUrl?: string;
  readonly registry: ConnectorRegistry;
  readonly server: ConnectorServer;
  /** Drains and stops the service; waits until its connections are closed. */
  close(): Promise<void>;
}

/**
 * Starts the real service on a free loopback port, as a test or a connector author's check needs it.
 *
 * @example
 * const svc = await startService({ registry: createConnectorRegistry([new MyConnector()]) });
 * try { ... call svc.url ... } finally { await svc.close(); }
 */
export async function startService(options: StartServiceOptions = {}): Promise<RunningService> {
  let { registry, connectors } = options;
  if (registry === undefined) {
    connectors ??= { builtins: true, modules: [], cwd: process.cwd() };
    registry = await connectorRegistryFrom(connectors);
  }
  // Event-loop stalls are not watched unless asked for: test machines run many suites at once, and a stall
  // there would turn health NOT_SERVING under tests that are about something else.
  const config = parseConfig({ host: "127.0.0.1", port: 0, metricsPort: 0, drainTimeoutMs: 2_000, readinessMaxEventLoopDelayMs: 0, ...options.config });
  const server = await createServer(config, registry, { log: options.log ?? silentLogger(), connectors });
  const { port, url, metricsUrl } = await server.listen();
  const close = async (): Promise<void> => {
    await server.close();
    // Connectors this helper created are its to close; a caller's registry stays the caller's.
    if (!options.registry) await registry.close();
  };
  return { url, port, address: `127.0.0.1:${port}`, metricsUrl, registry, server, close };
}
