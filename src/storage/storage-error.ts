import { CodedError } from "../errors/coded-error.js";

/** Why a storage call failed, as far as the caller needs to act on it. */
export type StorageFailure = "not-found" | "permission" | "too-large" | "unavailable" | "unsupported" | "invalid-uri" | "aborted";

/**
 * A read or write of a Flyte URI that did not happen. The message names the URI and the cause, and never a
 * credential: signatures, SAS tokens and account keys are cut out of whatever the SDK said.
 *
 * @example
 * catch (e) { if (e instanceof StorageError && e.failure === "not-found") ... }
 */
export class StorageError extends CodedError {
  static override readonly code = "FC_STORAGE";
  constructor(
    readonly operation: "read" | "write",
    readonly uri: string,
    readonly failure: StorageFailure,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`cannot ${operation} ${scrubCredentials(uri)}: ${scrubCredentials(detail)}`, options);
  }
}

// Query parameters and connection-string fields that carry credentials in the clouds' URLs and messages.
const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /([?&](?:sig|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential|access_token)=)[^&\s"']+/gi,
  /((?:AccountKey|SharedAccessSignature)=)[^;\s"']+/gi,
  /(Authorization:\s*)[^\r\n]+/gi,
];

/** Cuts credentials out of a URI or an SDK message. */
export function scrubCredentials(text: string): string {
  let out = text;
  for (const pattern of CREDENTIAL_PATTERNS) out = out.replace(pattern, "$1[REDACTED]");
  return out;
}

/** The short cause of an SDK or system error: its message, with its code or name and its HTTP status. */
export function causeOf(err: unknown): string {
  // Not `instanceof Error`: errors made in another realm (a VM context, a test runner) are errors too.
  if (typeof err !== "object" || err === null || typeof (err as Error).message !== "string") return String(err);
  const e = err as Error & { code?: unknown; Code?: unknown; statusCode?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ?? numberOr(e.statusCode) ?? numberOr(e.code);
  const code = typeof e.Code === "string" ? e.Code : typeof e.code === "string" ? e.code : e.name !== "Error" ? e.name : undefined;
  const tags = [code, status === undefined ? undefined : `HTTP ${status}`].filter((t) => t !== undefined);
  const message = e.message.split("\n")[0]!.trim();
  return tags.length === 0 ? message : `${message} (${tags.join(", ")})`;
}

/** Classifies an SDK or system error by HTTP status and error code, the same way for every store. */
export function failureOf(err: unknown, signal?: AbortSignal): StorageFailure {
  if (signal?.aborted) return "aborted";
  const e = err as { name?: string; code?: unknown; Code?: unknown; statusCode?: unknown; status?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ?? numberOr(e.statusCode) ?? numberOr(e.code) ?? numberOr(e.status);
  const code = String(e.Code ?? e.code ?? e.name ?? "");
  if (
    status === 404 ||
    code === "ENOENT" ||
    code === "NoSuchKey" ||
    code === "NotFound" ||
    code === "BlobNotFound" ||
    code === "ContainerNotFound" ||
    code === "NoSuchBucket"
  ) {
    return "not-found";
  }
  if (status === 401 || status === 403 || code === "EACCES" || code === "EPERM" || code === "EROFS") return "permission";
  if (e.name === "AbortError") return "aborted";
  return "unavailable";
}

function numberOr(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}
