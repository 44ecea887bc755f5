import { Code, ConnectError, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import type { ConnectorLimit } from "../config/config.js";
import { kCallInfo } from "./call-info.js";
import { countedStream } from "./load-shedder.js";
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

/** Per task type limits on connector calls. */
export interface ConnectorLimiter {
  readonly interceptor: Interceptor;
  /** Calls of a task type holding a slot now, including calls that timed out but whose connector has not returned. */
  running(taskType: string): number;
}

/**
 * Limits each task type's connector calls, so that one slow or broken connector cannot take the whole
 * service with it:
 * - at most `maxConcurrency` calls at once → otherwise RESOURCE_EXHAUSTED at once, before the connector is
 *   called;
 * - at most `timeoutMs` per call (for GetTaskLogs: to open the stream) → the connector's `ctx.signal` aborts
 *   and the caller gets DEADLINE_EXCEEDED.
 *   The call is answered at that moment even if the connector ignores its signal; its slot is given back
 *   only when the connector really returns, so a connector that hangs for good runs out of slots rather
 *   than piling up work.
 * Both apply to connector calls only (AsyncConnectorService and AsyncAgentService), keyed by task type name.
 */
export function createConnectorLimiter(options: ConnectorLimiterOptions): ConnectorLimiter {
  const running = new Map<string, number>();
  const limitOf = (type: string) => {
    const own = options.limits[type];
    return { maxConcurrency: own?.maxConcurrency ?? options.maxConcurrency, timeoutMs: own?.timeoutMs ?? options.timeoutMs };
  };
  const release = (type: string) => {
    const n = (running.get(type) ?? 1) - 1;
    // Entries go when they reach 0, so names of unknown task types do not pile up.
    if (n <= 0) running.delete(type);
    else running.set(type, n);
  };

  const interceptor: Interceptor = (next) => async (req) => {
    const info = req.contextValues.get(kCallInfo);
    // Call info has a task type for connector calls only.
    if (info?.taskType === undefined) return next(req);
    const type = info.taskType;
    const { maxConcurrency, timeoutMs } = limitOf(type);
    const now = running.get(type) ?? 0;
    if (maxConcurrency > 0 && now >= maxConcurrency) {
      options.onShed?.("connector_concurrency");
      throw new ConnectError(`too many concurrent calls for task type ${type} (limit ${maxConcurrency})`, Code.ResourceExhausted);
    }
    running.set(type, now + 1);

    if (timeoutMs <= 0) {
      let res;
      try {
        res = await next(req);
      } catch (e) {
        release(type);
        throw e;
      }
      if (!res.stream) {
        release(type);
        return res;
      }
      return { ...res, message: countedStream(res.message, () => release(type)) };
    }

    // The connector's signal: the caller's (deadline, cancel, drain) or our timeout, whichever comes first.
    // Linked by hand rather than with AbortSignal.any, so that every listener is removed when the call ends.
    const controller = new AbortController();
    const abort = (reason: unknown) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const onCallerAbort = () => abort(req.signal.reason);
    if (req.signal.aborted) onCallerAbort();
    else req.signal.addEventListener("abort", onCallerAbort, { once: true });
    const timer = setTimeout(() => abort(new ConnectError(`${info.method} for task type ${type} did not finish within ${timeoutMs} ms`, Code.DeadlineExceeded)), timeoutMs);
    let onAbort: () => void = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(controller.signal.reason instanceof ConnectError ? controller.signal.reason : new ConnectError("the call was cancelled", Code.Canceled));
      if (controller.signal.aborted) onAbort();
      else controller.signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => {});

    const call = next({ ...req, signal: controller.signal });
    let answered: UnaryResponse | StreamResponse;
    try {
      answered = await Promise.race([call, aborted]);
    } catch (e) {
      // Answered (or failed) without the connector: its slot is held until it really returns.
      void call.then(
        (res) => (res.stream ? closeUnread(res, () => release(type)) : release(type)),
        () => release(type),
      );
      throw e;
    } finally {
      clearTimeout(timer);
      req.signal.removeEventListener("abort", onCallerAbort);
      controller.signal.removeEventListener("abort", onAbort);
    }
    if (!answered.stream) {
      release(type);
      return answered;
    }
    // The time limit covers opening the stream; once open, the client reads at its own pace.
    return { ...answered, message: countedStream(answered.message, () => release(type)) };
  };

  return {
    interceptor,
    running: (type) => running.get(type) ?? 0,
  };
}

/** A stream answered after its call was already given up: nobody reads it, so end it and free the slot. */
function closeUnread(res: StreamResponse, done: () => void): void {
  const it = res.message[Symbol.asyncIterator]();
  void Promise.resolve(it.return?.()).finally(done);
}
