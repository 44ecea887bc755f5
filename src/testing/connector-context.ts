import type { GetContext } from "../connectors/connector.js";
import type { Logger } from "../log/logger.js";
import type { SecretSource } from "../secrets/secret-lookup.js";
import { createConnectorInvoker } from "../service/rpc/connector-invoker.js";

/** Options of {@link connectorContext}. */
export interface ConnectorContextOptions {
  readonly configs?: Readonly<Record<string, string>>;
  readonly secrets?: Readonly<Record<string, string>>;
  /** The service's own secrets, behind `secrets`. */
  readonly secretSource?: SecretSource;
  /** Default: a 10 s deadline, as the executor gives each call. */
  readonly signal?: AbortSignal;
  readonly taskType?: string;
  readonly taskTypeVersion?: number;
  readonly outputPrefix?: string;
  readonly log?: Logger;
}

/**
 * The context the service gives a connector call, built by the service's own connector invoker, for a test
 * that calls a connector method directly.
 *
 * @example
 * const meta = await connector.create(request, connectorContext({ secrets: { password } }));
 */
export function connectorContext(options: ConnectorContextOptions = {}): GetContext {
  return createConnectorInvoker({ log: options.log, secretSource: options.secretSource }).context({
    rpc: "test",
    taskCategory: { name: options.taskType ?? "test", version: options.taskTypeVersion ?? 0 },
    secrets: options.secrets ?? {},
    configs: options.configs ?? {},
    outputPrefix: options.outputPrefix ?? "",
    signal: options.signal ?? AbortSignal.timeout(10_000),
  });
}
