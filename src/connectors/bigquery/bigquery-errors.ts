import { excerpt } from "../http-job/http-call.js";
import { isTransientStatus } from "../http-job/http-call.js";

/** BigQuery's error body: `{"error": {"code", "message", "errors": [{"reason", "message"}], "status"}}`. */
interface GoogleErrorBody {
  readonly error?: { readonly message?: unknown; readonly status?: unknown; readonly errors?: readonly { readonly reason?: unknown }[] };
}

/** BigQuery's own words for a failed call: `HTTP 403 PERMISSION_DENIED: Access Denied: …`. */
export function bigQueryErrorMessage(status: number, json: unknown, text: string): string {
  const error = (json as GoogleErrorBody | undefined)?.error;
  if (typeof error?.message === "string") return `HTTP ${status}${typeof error.status === "string" ? ` ${error.status}` : ""}: ${error.message}`;
  return `HTTP ${status}${text ? `: ${excerpt(text)}` : ""}`;
}

/**
 * BigQuery answers a rate limit with 403 and reason `rateLimitExceeded` as well as with 429; both are
 * worth retrying with backoff, as Google's troubleshooting guide says. Other 403s are refusals.
 */
export function bigQueryRetryOn(status: number, text: string): boolean {
  return isTransientStatus(status) || (status === 403 && text.includes('"rateLimitExceeded"'));
}
