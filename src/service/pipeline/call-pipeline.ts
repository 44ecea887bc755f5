import { Code, ConnectError } from "@connectrpc/connect";
import type { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import type { Logger } from "../../log/logger.js";
import type { LazySignal } from "../rpc/connector-invoker.js";
import type { AuthCheck } from "./auth.js";
import { codeOf, type CallInfo, type DecodedCall } from "./call-info.js";
import type { ConnectorLimiter, ConnectorSlot } from "./connector-limits.js";
import { clampTimeoutMs } from "./deadline.js";
import type { Drain } from "./drain.js";
import type { LoadShedder } from "./load-shedder.js";
import type { CallMeter, ServiceMetrics } from "./metrics.js";
import { logCall } from "./rpc-log.js";

/**
 * The service's own concerns around every RPC, defined once and run by both transports (connect's handlers
 * through one interceptor, and the unary gRPC fast path): metrics, the per-RPC log line, auth, drain, load
 * shedding, per-connector concurrency and time limits, deadlines and cancellation. Each step is a plain
 * synchronous function on a {@link Call}; the only promise is the race of the handler against the call's
 * deadline, and only when there is a deadline.
 *
 * A transport decodes the request once into a {@link DecodedCall}, then:
 * ```
 * const call = pipeline.start(decoded, { deadlineMs });
 * try {
 *   call.admit(authorization);                    // throws: UNAUTHENTICATED, UNAVAILABLE, RESOURCE_EXHAUSTED
 *   const response = await call.run(() => handler(request, call));
 *   call.end(undefined, phase);
 * } catch (e) { call.end(e); }
 * ```
 * and calls `call.abort(reason)` when the client goes away (RST_STREAM, a closed stream): `end` is
 * idempotent, so whichever comes first settles the call's accounting, exactly once.
 */
export interface CallPipeline {
  /** Starts a decoded call: it is counted now and logged when it ends. */
  start(decoded: DecodedCall, options?: CallOptions): Call;
}

/** Options of {@link CallPipeline.start}. */
export interface CallOptions {
  /** A signal to follow (connect's call signal: client deadline, cancel, drain). */
  readonly parent?: AbortSignal;
  /** The client's deadline in ms, for transports that keep it themselves; clamped to what a timer holds. */
  readonly deadlineMs?: number;
}

/** Options of {@link createCallPipeline}. */
export interface CallPipelineOptions {
  readonly metrics: ServiceMetrics;
  readonly log: Logger;
  readonly auth: AuthCheck | undefined;
  readonly drain: Drain;
  readonly shedder: LoadShedder;
  readonly limiter: ConnectorLimiter;
}

export function createCallPipeline(options: CallPipelineOptions): CallPipeline {
  return {
    start(decoded, callOptions) {
      const meter = options.metrics.started(decoded.info);
      if (decoded.info.operation === "create" && decoded.info.inputBytes !== undefined) meter.inputBytes(decoded.info.inputBytes);
      return new Call(options, meter, decoded, callOptions?.parent, callOptions?.deadlineMs);
    },
  };
}

const CANCELLED = () => new ConnectError("the call was cancelled", Code.Canceled);

/** One RPC going through the pipeline. Its abort signal is built only if someone asks for it. */
export class Call implements LazySignal {
  readonly info: CallInfo;
  readonly secrets: Readonly<Record<string, string>> | undefined;
  private controller: AbortController | undefined;
  private abortReason: ConnectError | undefined;
  private counted = false;
  private slot: ConnectorSlot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private rejectRun: ((e: unknown) => void) | undefined;
  private running = false;
  private holdSlot = false;
  private ended = false;
  private readonly onParentAbort: (() => void) | undefined;

  constructor(
    private readonly options: CallPipelineOptions,
    private readonly meter: CallMeter,
    decoded: DecodedCall,
    private readonly parent: AbortSignal | undefined,
    private readonly deadlineMs: number | undefined,
  ) {
    this.info = decoded.info;
    this.secrets = decoded.secrets;
    if (parent) {
      this.onParentAbort = () => this.abort(parent.reason instanceof ConnectError ? parent.reason : CANCELLED());
      if (parent.aborted) this.onParentAbort();
      else parent.addEventListener("abort", this.onParentAbort, { once: true });
    }
  }

  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  get reason(): unknown {
    return this.abortReason;
  }

  /** Aborts on the call's deadline, the connector's time limit, client cancel and drain. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Ends the call's work: its signal aborts, and a handler still running is answered with `reason`. */
  abort(reason: ConnectError): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.rejectRun?.(reason);
  }

  /**
   * Lets the call in, or throws the error it is refused with: auth before anything that reveals the
   * server's state, then drain, load shedding and, nearest the connector, its task type's concurrency.
   */
  admit(authorization: string | null | undefined): void {
    const { info, options } = this;
    options.auth?.(info.service, authorization);
    options.drain.check(info.service);
    this.counted = options.shedder.admit(info.service);
    if (info.operation !== undefined && info.taskType !== undefined) this.slot = options.limiter.acquire(info.taskType);
  }

  /**
   * Runs the handler. With a deadline (the client's, or the connector's time limit), the call is answered
   * when it passes even if the handler ignores its signal; the connector's slot is given back only when the
   * handler really returns, or with `holdSlot` (a stream: the limit covers opening it) when the call ends.
   */
  run<T>(handler: () => T | Promise<T>, holdSlot = false): Promise<T> {
    this.running = true;
    this.holdSlot = holdSlot;
    const limit = this.slot !== undefined && this.slot.timeoutMs > 0 ? this.slot.timeoutMs : undefined;
    const deadline = this.deadlineMs !== undefined ? clampTimeoutMs(this.deadlineMs) : undefined;
    if (limit !== undefined || deadline !== undefined) {
      const byLimit = limit !== undefined && (deadline === undefined || limit < deadline);
      this.timer = setTimeout(
        () =>
          this.abort(
            byLimit
              ? new ConnectError(`${this.info.method} for task type ${this.info.taskType} did not finish within ${limit} ms`, Code.DeadlineExceeded)
              : new ConnectError("the operation timed out", Code.DeadlineExceeded),
          ),
        byLimit ? limit : deadline,
      );
    }
    const slot = holdSlot ? undefined : this.slot;
    let result: T | Promise<T>;
    try {
      result = handler();
    } catch (e) {
      slot?.release();
      return Promise.reject(e);
    }
    if (typeof (result as { then?: unknown } | null)?.then !== "function") {
      slot?.release();
      return Promise.resolve(result);
    }
    const pending = result as Promise<T>;
    if (slot) pending.then(slot.release, slot.release);
    if (this.timer === undefined && this.parent === undefined) return pending;
    if (this.abortReason !== undefined) {
      pending.then(undefined, () => {});
      return Promise.reject(this.abortReason);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectRun = reject;
      pending.then(resolve, reject);
    });
  }

  /**
   * Settles the call, once, whatever ends it first: the answer, an error, the client leaving. The metrics,
   * the log line and the in-flight count all happen here, so none can be skipped or doubled.
   */
  end(err?: unknown, phase?: TaskExecution_Phase): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.rejectRun = undefined;
    if (this.onParentAbort) this.parent?.removeEventListener("abort", this.onParentAbort);
    if (this.counted) this.options.shedder.release();
    // Never run (refused, or ended before its handler started): nobody else gives the slot back.
    if (!this.running || this.holdSlot) this.slot?.release();
    this.meter.handled(this.info, err === undefined ? undefined : codeOf(err), phase);
    logCall(this.options.log, this.info, err, this.secrets);
  }

  /**
   * For a streaming call whose task type arrives in a message (ExecuteTaskSync's header), so `admit` could
   * not take its connector slot: takes it now (RESOURCE_EXHAUSTED when none is left) and holds `work` to the
   * task type's time limit as `run` does, the slot given back only when `work` really returns.
   */
  limitConnector<T>(taskType: string, work: () => Promise<T>): Promise<T> {
    const slot = this.options.limiter.acquire(taskType);
    let pending: Promise<T>;
    try {
      pending = work();
    } catch (e) {
      slot.release();
      return Promise.reject(e);
    }
    pending.then(slot.release, slot.release);
    if (slot.timeoutMs <= 0) return pending;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const e = new ConnectError(`${this.info.method} for task type ${taskType} did not finish within ${slot.timeoutMs} ms`, Code.DeadlineExceeded);
        this.abort(e);
        reject(e);
      }, slot.timeoutMs);
      pending.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  /** Whether the call has been settled. */
  get settled(): boolean {
    return this.ended;
  }
}
