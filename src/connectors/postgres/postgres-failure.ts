/** A query's failure as recorded in the job table and reported to the user. */
export interface PostgresFailure {
  readonly message: string;
  /** The SQLSTATE, when PostgreSQL reported the error. */
  readonly sqlstate?: string;
  /** Whether running the task again may succeed. */
  readonly retryable: boolean;
}

/**
 * SQLSTATE classes and codes that say "try again": lost connections (class 08), serialization failures and
 * deadlocks (40001, 40P01), lack of resources (class 53: disk, memory, too many connections), lock timeouts
 * (55P03), server shutdowns (57P01–57P03), and operating-system errors (58000). Everything else — syntax
 * errors, missing tables, constraint violations, statement timeouts — fails the same way every time.
 */
function isRetryableSqlState(code: string): boolean {
  return code.startsWith("08") || code.startsWith("53") || ["40001", "40P01", "55P03", "57P01", "57P02", "57P03", "58000"].includes(code);
}

/** Node socket errors that mean the server was unreachable or the connection broke. */
const RETRYABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND"]);

/**
 * Turns what node-postgres threw into a failure for the user: PostgreSQL's own message (plus its detail and
 * hint) with the SQLSTATE, or the network error, and whether it is worth retrying.
 */
export function postgresFailureFrom(err: unknown): PostgresFailure {
  if (typeof err !== "object" || err === null) return { message: String(err), retryable: false };
  const e = err as { message?: unknown; code?: unknown; detail?: unknown; hint?: unknown; severity?: unknown };
  const message = typeof e.message === "string" ? e.message : String(err);
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code && typeof e.severity === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    const extra = [typeof e.detail === "string" ? `DETAIL: ${e.detail}` : "", typeof e.hint === "string" ? `HINT: ${e.hint}` : ""].filter(Boolean).join(" ");
    return { message: `${message}${extra ? ` ${extra}` : ""} (SQLSTATE ${code})`, sqlstate: code, retryable: isRetryableSqlState(code) };
  }
  const retryable = (code !== undefined && RETRYABLE_NODE_CODES.has(code)) || /Connection terminated|timeout expired|connection timeout/i.test(message);
  return { message: code && !message.includes(code) ? `${message} (${code})` : message, retryable };
}
