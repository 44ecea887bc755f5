/**
 * Deadlines as timers can hold them. node's `setTimeout` keeps a delay in a signed 32-bit integer: a longer
 * one (2^31 ms is under 25 days) fires after 1 ms, so a client's long `grpc-timeout` or `connect-timeout-ms`
 * would end its call at once. Every deadline is clamped to the longest delay a timer holds; a call that lasts
 * 24.8 days is, for every purpose here, one without a deadline.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` clamped to what `setTimeout` holds. */
export function clampTimeoutMs(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}

/** The largest `grpc-timeout` that stays under {@link MAX_TIMER_MS} in connect's own parser (8 digits, ms). */
const CLAMPED_GRPC_TIMEOUT = `${Math.floor(MAX_TIMER_MS / 60_000)}M`;

const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;

const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * A `grpc-timeout` header in milliseconds, as connect parses it (up to 8 digits and a unit H, M, S, m, u or
 * n), clamped; `undefined` when absent, `null` when malformed.
 */
export function parseGrpcTimeoutMs(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  const m = GRPC_TIMEOUT.exec(value);
  if (m === null) return null;
  return clampTimeoutMs(UNIT_MS[m[2]!]! * Number.parseInt(m[1]!, 10));
}

/**
 * Rewrites a request's deadline headers in place, before connect reads them, so that connect's own timer
 * (which it starts from these headers) is clamped too. Malformed values are left for connect to reject.
 */
export function clampDeadlineHeaders(headers: Record<string, string | string[] | undefined>): void {
  const grpc = headers["grpc-timeout"];
  if (typeof grpc === "string") {
    const ms = parseGrpcTimeoutMs(grpc);
    if (ms === MAX_TIMER_MS) headers["grpc-timeout"] = CLAMPED_GRPC_TIMEOUT;
  }
  const connect = headers["connect-timeout-ms"];
  if (typeof connect === "string" && /^\d{1,10}$/.test(connect) && Number(connect) > MAX_TIMER_MS) headers["connect-timeout-ms"] = String(MAX_TIMER_MS);
}
