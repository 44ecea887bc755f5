import { setMaxListeners } from "node:events";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health } from "../../gen/health/v1/health_pb.js";

/**
 * The server's drain state. Once draining, new RPCs are refused with UNAVAILABLE (the executor retries
 * them on another replica), health still answers so probes see NOT_SERVING, and calls already running
 * go on until they finish or the grace period ends.
 */
export interface Drain {
  readonly draining: boolean;
  /** Aborts, with an UNAVAILABLE reason, when the grace period is over: every running call is cancelled. */
  readonly signal: AbortSignal;
  /** Fires when draining starts, for streams that should end at once (health Watch). */
  readonly started: AbortSignal;
  start(graceMs: number): void;
  /** Cancels whatever still runs and clears the grace timer. */
  finish(): void;
  /** Throws UNAVAILABLE for a new call once draining; health calls still pass. */
  check(service: string): void;
}

export function createDrain(): Drain {
  const started = new AbortController();
  const shutdown = new AbortController();
  // connect links every call's signal to this one (and unlinks it when the call ends): with more than ten
  // calls in flight node would print a false "possible EventTarget memory leak" warning.
  setMaxListeners(0, shutdown.signal);
  // Made when draining starts: a ConnectError's metadata is a fetch Headers, and the first Headers loads
  // node's whole fetch implementation (about 11 MiB of idle memory for a service that never uses it).
  let reason: ConnectError | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    get draining() {
      return started.signal.aborted;
    },
    signal: shutdown.signal,
    started: started.signal,
    start(graceMs) {
      if (started.signal.aborted) return;
      reason = new ConnectError("server is shutting down", Code.Unavailable);
      started.abort(reason);
      timer = setTimeout(() => shutdown.abort(reason), graceMs);
      // A pending grace timer must not keep the process alive.
      timer.unref();
    },
    finish() {
      clearTimeout(timer);
      reason ??= new ConnectError("server is shutting down", Code.Unavailable);
      if (!shutdown.signal.aborted) shutdown.abort(reason);
    },
    check(service) {
      if (started.signal.aborted && service !== Health.typeName) throw started.signal.reason as ConnectError;
    },
  };
}
