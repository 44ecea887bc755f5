import { ConnectorError } from "../errors.js";
import { displayUrl, httpCall, TransientHttpError, type HttpCallResponse } from "../http-job/http-call.js";

/** How long and how often a warehouse connector may try one API call. */
export interface ApiCallBudget {
  /** Retries stop when the next attempt could not finish inside this many ms (default 8000, inside the executor's 10 s). */
  readonly budgetMs: number;
  /** One attempt's timeout (default 5000): a hanging answer is given up and retried while the budget lasts. */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_API_CALL_BUDGET: ApiCallBudget = Object.freeze({ budgetMs: 8000, requestTimeoutMs: 5000 });

/** One JSON call to a vendor's REST API. */
export interface ApiCall {
  /** For messages: `BigQuery`. */
  readonly vendor: string;
  /** For messages: `submit the query job`. */
  readonly what: string;
  readonly method: "GET" | "POST";
  readonly url: string;
  /** Authorization and vendor headers; content-type and accept are added. Never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Overrides the default "408, 429 and 5xx are transient". */
  readonly retryOn?: (status: number, text: string) => boolean;
}

/**
 * Sends a JSON request through {@link httpCall}: connections are reused (fetch keeps them alive), and
 * transient answers are retried with backoff and jitter within the budget and the call's signal. When the
 * API stayed unavailable for the whole budget, throws a retryable {@link ConnectorError} (RETRYABLE_FAILED
 * from `get`; from `create` and `delete` an error the executor retries).
 */
export async function apiCall(call: ApiCall, signal: AbortSignal, budget: ApiCallBudget): Promise<HttpCallResponse> {
  const headers: Record<string, string> = { accept: "application/json", ...call.headers };
  if (call.body !== undefined) headers["content-type"] = "application/json";
  try {
    return await httpCall(
      { method: call.method, url: call.url, headers, ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }) },
      { signal, budgetMs: budget.budgetMs, requestTimeoutMs: budget.requestTimeoutMs, ...(call.retryOn ? { retryOn: call.retryOn } : {}) },
    );
  } catch (e) {
    if (!(e instanceof TransientHttpError)) throw e;
    throw ConnectorError.retryable(`could not ${call.what}: ${call.vendor} at ${new URL(displayUrl(call.url)).origin}/ is unavailable: ${e.message}`, {
      cause: e,
    });
  }
}
