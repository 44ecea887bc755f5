import type { ConnectorContext, Resource } from "../connector.js";
import { redact } from "../http-job/http-job-connector.js";
import type { MetaRecord } from "../resource-meta.js";

/**
 * The "create failed" marker of a warehouse task: set only when the vendor refused the submission outright
 * (a non-retryable 4xx, so no job, statement or run exists). The task's metadata then holds the Python
 * connector's keys with placeholder values plus `failure`; GetTask reports FAILED and DeleteTask does nothing.
 * Normal tasks never carry the key, so their metadata stays byte for byte the Python connector's.
 */
export interface SubmitRefusal {
  readonly failure?: string;
}

/**
 * The marker for a refusal, in the vendor's own words with every secret of the call replaced: the task's
 * connection secrets and the credential sent in the `authorization` header (which may come from the
 * service's environment). Metadata is stored in plain sight by the executor.
 */
export function refusedSubmission(message: string, ctx: ConnectorContext, headers: Readonly<Record<string, string>>): { readonly failure: string } {
  const credential = (headers["authorization"] ?? "").replace(/^(Bearer|Basic)\s+/i, "");
  const failure = redact(message, { ...ctx.secrets, ...(credential ? { authorization: credential } : {}) });
  ctx.log.warn("the vendor refused the submission; GetTask reports FAILED");
  return { failure };
}

/** The marker as read back from stored metadata (absent for every task that was submitted). */
export function submitRefusalOf(record: MetaRecord): SubmitRefusal {
  const failure = record["failure"];
  return typeof failure === "string" ? { failure } : {};
}

/** GetTask's answer for a refused submission, or `undefined` for a task that was submitted. */
export function refusedSubmissionResource(meta: SubmitRefusal): Resource | undefined {
  return meta.failure === undefined ? undefined : { phase: "FAILED", message: meta.failure };
}
