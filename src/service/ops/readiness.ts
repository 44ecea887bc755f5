import { monitorEventLoopDelay } from "node:perf_hooks";
import { ServingStatus, type HealthStatus } from "../rpc/health-service.js";

/** Options of {@link watchReadiness}. */
export interface ReadinessOptions {
  readonly health: HealthStatus;
  /** The services whose status follows readiness ("" included). */
  readonly services: readonly string[];
  /** Calls in flight now, and the limit (0: none): at the limit every new connector call is refused. */
  readonly inFlight: () => number;
  readonly maxInFlight: number;
  /** Event-loop delay above which the process counts as stalled. 0: not watched. */
  readonly maxEventLoopDelayMs: number;
  /** How often readiness is looked at; default 250 ms. */
  readonly intervalMs?: number;
  /** How long NOT_SERVING holds after the last stall, so that a probe every few seconds sees it; default 5 s. */
  readonly holdMs?: number;
}

/** Stops watching; the statuses stay as they are. */
export type StopReadiness = () => void;

/**
 * Readiness that tells the truth: while the service cannot take connector calls — every in-flight slot
 * taken, or the event loop stalled (a delay above `maxEventLoopDelayMs`, measured with
 * `monitorEventLoopDelay`) — the given services report NOT_SERVING in gRPC health (and so `/readyz`), and
 * SERVING again once it can. Kubernetes then stops routing to the replica instead of sending it calls it
 * can only refuse. A status set by someone else (the drain) wins: readiness then stops for good.
 */
export function watchReadiness(options: ReadinessOptions): StopReadiness {
  const { health, services } = options;
  const holdMs = options.holdMs ?? 5_000;
  const delay = options.maxEventLoopDelayMs > 0 ? monitorEventLoopDelay({ resolution: 20 }) : undefined;
  delay?.enable();
  let notReadySince: number | undefined;
  let lastStall = 0;
  let ours = false;
  let stopped = false;

  const setAll = (status: ServingStatus) => {
    ours = true;
    try {
      for (const s of services) health.set(s, status);
    } finally {
      ours = false;
    }
  };
  const unsubscribe = health.onChange(() => {
    // Someone else (the drain) turned the service NOT_SERVING: that is final.
    if (!ours && health.get("") !== ServingStatus.SERVING) stop();
  });

  const intervalMs = options.intervalMs ?? 250;
  let lastTick = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    // The histogram, and this timer's own lateness as a second opinion: the histogram's sampling timer
    // can miss a stall that ends just before this one fires.
    const lateMs = now - lastTick - intervalMs;
    lastTick = now;
    const stalled = delay !== undefined && Math.max(delay.max / 1e6, lateMs) > options.maxEventLoopDelayMs;
    delay?.reset();
    const full = options.maxInFlight > 0 && options.inFlight() >= options.maxInFlight;
    if (stalled) lastStall = now;
    if (notReadySince === undefined && (stalled || full)) {
      notReadySince = now;
      setAll(ServingStatus.NOT_SERVING);
    } else if (notReadySince !== undefined && !full && now - lastStall >= holdMs) {
      notReadySince = undefined;
      setAll(ServingStatus.SERVING);
    }
  }, intervalMs);
  timer.unref();

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    delay?.disable();
    unsubscribe();
  }
  return stop;
}
