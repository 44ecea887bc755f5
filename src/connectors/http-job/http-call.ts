import { setTimeout as sleep } from "node:timers/promises";
import { ConnectorError } from "../errors.js";

/**
 * The largest answer read from a job API. The URLs come from the task and from the metadata (client input),
 * so the answer's size is not ours to trust: a status poll must not read a gigabyte into memory.
 */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** A rendered request. */
export interface HttpCallRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A response that was not worth retrying (2xx, or a 4xx other than 408/429). */
export interface HttpCallResponse {
  readonly status: number;
  readonly text: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json?: unknown;
}

export interface HttpCallOptions {
  /** The call's signal: aborting it stops at once. */
  readonly signal: AbortSignal;
  /** Retries stop when the next attempt could not finish inside this many ms from the start. */
  readonly budgetMs: number;
  /** One attempt's timeout; cut down to what is left of the budget. */
  readonly requestTimeoutMs: number;
  /**
   * Whether an answer means "try again later". Default: 408, 429 and 5xx. An API that says so differently
   * (BigQuery's 403 `rateLimitExceeded`, Snowflake's 408 for a statement that timed out) passes its own.
   */
  readonly retryOn?: (status: number, text: string) => boolean;
}

/** The job API stayed unreachable or kept failing with a server error for the whole budget. */
export class TransientHttpError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
    this.name = "TransientHttpError";
  }
}

/** Statuses that say "the server could not answer now", as opposed to "your request is wrong". */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Where a request went, without the query string: a query may carry an API key. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * Why a fetch failed, in the words of the socket: `connect ECONNREFUSED 127.0.0.1:1234`. Read by shape, not
 * with instanceof: fetch's errors come from Node's own realm, which a test sandbox does not share.
 */
function networkReason(e: unknown): string {
  const err = (typeof e === "object" && e !== null ? e : {}) as { name?: unknown; message?: unknown; cause?: unknown };
  if (err.name === "TimeoutError") return "no response in time";
  const cause = (typeof err.cause === "object" && err.cause !== null ? err.cause : {}) as { message?: unknown; code?: unknown; errors?: unknown };
  if (typeof cause.message === "string" && cause.message !== "") return cause.message;
  const first = Array.isArray(cause.errors) ? (cause.errors[0] as { message?: unknown } | undefined) : undefined;
  if (typeof first?.message === "string") return first.message;
  if (typeof cause.code === "string") return cause.code;
  return typeof err.message === "string" ? err.message : String(e);
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * Sends a request, retrying transient failures — connection refused or reset, timeouts, 408, 429 and 5xx —
 * with exponential backoff and jitter for as long as the budget allows. The budget stays inside the
 * executor's 10 s deadline, so that the caller can still answer with a phase instead of a timeout.
 * Throws {@link TransientHttpError} when the budget runs out; rethrows the signal's reason on abort.
 */
export async function httpCall(request: HttpCallRequest, options: HttpCallOptions): Promise<HttpCallResponse> {
  const started = Date.now();
  const deadline = started + options.budgetMs;
  let lastProblem = "";
  const retryOn = options.retryOn ?? isTransientStatus;
  for (let attempt = 1; ; attempt++) {
    options.signal.throwIfAborted();
    const left = deadline - Date.now();
    const timeoutMs = Math.min(options.requestTimeoutMs, left);
    let retryDelay: number | undefined;
    try {
      const res = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(Math.max(1, timeoutMs))]),
        redirect: "follow",
      });
      const text = await boundedText(res, request);
      if (!retryOn(res.status, text)) {
        let json: unknown;
        try {
          json = text === "" ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        return { status: res.status, text, ...(json === undefined ? {} : { json }) };
      }
      lastProblem = `HTTP ${res.status}${text ? `: ${excerpt(text)}` : ""}`;
      retryDelay = retryAfterMs(res.headers.get("retry-after"));
    } catch (e) {
      if (options.signal.aborted) throw options.signal.reason;
      if (e instanceof ConnectorError) throw e;
      lastProblem = networkReason(e);
    }
    const backoff = retryDelay ?? Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    // Another attempt needs its backoff plus a little time to be answered; if that does not fit, stop.
    if (Date.now() + backoff + 100 >= deadline) {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      throw new TransientHttpError(
        `${request.method} ${displayUrl(request.url)} failed ${attempt} time${attempt === 1 ? "" : "s"} in ${seconds} s; last: ${lastProblem}`,
        attempt,
      );
    }
    await sleep(backoff, undefined, { signal: options.signal });
  }
}

/** The body as text, or a permanent failure once it grows past {@link MAX_RESPONSE_BYTES}. */
async function boundedText(res: Response, request: HttpCallRequest): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  const tooLarge = () =>
    ConnectorError.permanent(
      `the answer to ${request.method} ${displayUrl(request.url)} is larger than ${MAX_RESPONSE_BYTES} bytes, the most a job API may answer`,
    );
  if (declared > MAX_RESPONSE_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The start of a response body, for a message. */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
