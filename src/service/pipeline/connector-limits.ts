import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectorLimit } from "../../config/config.js";
import type { ShedReason } from "./metrics.js";

/** Options of {@link createConnectorLimiter}. */
export interface ConnectorLimiterOptions {
  /** For task types without an entry in `limits`. 0: no limit. */
  readonly maxConcurrency: number;
  /** For task types without an entry in `limits`. 0: only the caller's deadline. */
  readonly timeoutMs: number;
  /** Per task type overrides. */
  readonly limits: Readonly<Record<string, ConnectorLimit>>;
  readonly onShed?: (reason: ShedReason) => void;
}

/** A connector call's slot: its time limit (0: none), given back once with `release`. */
export interface ConnectorSlot {
  readonly timeoutMs: number;
  release(): void;
}

/** Per task type limits on connector calls. */
export interface ConnectorLimiter {
  /** Takes a slot for a call of `taskType`, or throws RESOURCE_EXHAUSTED when its task type has none left. */
  acquire(taskType: string): ConnectorSlot;
  /** Calls of a task type holding a slot now, including calls that timed out but whose connector has not returned. */
  running(taskType: string): number;
}

/**
 * Limits each task type's connector calls, so that one slow or broken connector cannot take the whole
 * service with it:
 * - at most `maxConcurrency` calls at once → otherwise RESOURCE_EXHAUSTED at once, before the connector is
 *   called;
 * - at most `timeoutMs` per call (for GetTaskLogs: to open the stream) → the connector's `ctx.signal` aborts
 *   and the caller gets DEADLINE_EXCEEDED (the call pipeline keeps the timer).
 *   The call is answered at that moment even if the connector ignores its signal; its slot is given back
 *   only when the connector really returns, so a connector that hangs for good runs out of slots rather
 *   than piling up work.
 * Both apply to connector calls only (AsyncConnectorService, Flyte 1's AsyncAgentService and, by the task type of
 * its header, SyncAgentService.ExecuteTaskSync), keyed by task type name.
 */
export function createConnectorLimiter(options: ConnectorLimiterOptions): ConnectorLimiter {
  const running = new Map<string, number>();
  const limitOf = (type: string) => {
    const own = options.limits[type];
    return { maxConcurrency: own?.maxConcurrency ?? options.maxConcurrency, timeoutMs: own?.timeoutMs ?? options.timeoutMs };
  };
  return {
    acquire(type) {
      const { maxConcurrency, timeoutMs } = limitOf(type);
      const now = running.get(type) ?? 0;
      if (maxConcurrency > 0 && now >= maxConcurrency) {
        options.onShed?.("connector_concurrency");
        throw new ConnectError(`too many concurrent calls for task type ${type} (limit ${maxConcurrency})`, Code.ResourceExhausted);
      }
      running.set(type, now + 1);
      let released = false;
      return {
        timeoutMs,
        release() {
          if (released) return;
          released = true;
          const n = (running.get(type) ?? 1) - 1;
          // Entries go when they reach 0, so names of unknown task types do not pile up.
          if (n <= 0) running.delete(type);
          else running.set(type, n);
        },
      };
    },
    running: (type) => running.get(type) ?? 0,
  };
}
