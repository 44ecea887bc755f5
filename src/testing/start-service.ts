import { builtinConnectors } from "../connectors/builtins.js";
import { parseConfig, type ConfigInput } from "../config/config.js";
import { silentLogger, type Logger } from "../log/logger.js";
import { createConnectorRegistry, type ConnectorRegistry } from "../registry/connector-registry.js";
import { createServer, type ConnectorServer } from "../service/create-server.js";

/** Options of {@link startService}. */
export interface StartServiceOptions {
  /** The connectors to serve; by default a registry with the built-ins. */
  readonly registry?: ConnectorRegistry;
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
  const registry = options.registry ?? createConnectorRegistry(builtinConnectors());
  // Event-loop stalls are not watched unless asked for: test machines run many suites at once, and a stall
  // there would turn health NOT_SERVING under tests that are about something else.
  const config = parseConfig({ host: "127.0.0.1", port: 0, metricsPort: 0, drainTimeoutMs: 2_000, readinessMaxEventLoopDelayMs: 0, ...options.config });
  const server = await createServer(config, registry, { log: options.log ?? silentLogger() });
  const { port, url, metricsUrl } = await server.listen();
  const close = async (): Promise<void> => {
    await server.close();
    // Connectors this helper created are its to close; a caller's registry stays the caller's.
    if (!options.registry) await registry.close();
  };
  return { url, port, address: `127.0.0.1:${port}`, metricsUrl, registry, server, close };
}
