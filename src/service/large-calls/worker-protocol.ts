import type { Config } from "../../config/config.js";
import type { LogLevel } from "../../log/logger.js";
import type { ConnectorSource } from "../../registry/load-modules.js";
import type { DeleteIgnoredReason } from "../pipeline/metrics.js";

/** The unary connector methods a large request of can run on the worker, by their handler names. */
export type LargeCallMethod = "createTask" | "getTask" | "deleteTask" | "getTaskMetrics";

/** What the worker is started with (`workerData`): enough to build the same connector service. */
export interface WorkerInit {
  readonly config: Config;
  /** The event loop's log level (a silent service has a silent worker). */
  readonly logLevel: LogLevel;
  readonly connectors: ConnectorSource;
}

/** Event loop → worker. */
export type ToWorker =
  | { readonly kind: "call"; readonly id: number; readonly method: LargeCallMethod; readonly request: Uint8Array }
  | { readonly kind: "abort"; readonly id: number; readonly message: string }
  | { readonly kind: "close" };

/** Worker → event loop. */
export type FromWorker =
  | { readonly kind: "ready" }
  | { readonly kind: "startFailed"; readonly message: string }
  | { readonly kind: "answer"; readonly id: number; readonly response: Uint8Array }
  | { readonly kind: "deleteIgnored"; readonly taskType: string; readonly reason: DeleteIgnoredReason }
  | { readonly kind: "error"; readonly id: number; readonly code: number; readonly message: string; readonly metadata: [string, string][] }
  | { readonly kind: "closed" };
