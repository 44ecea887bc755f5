import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Phase } from "../phase.js";
import { PHASES } from "../phase.js";
import { jsonResourceMeta, optionalField, requireNumber, requireString, ResourceMetaError, type MetaRecord } from "../resource-meta.js";
import type { HttpRequestSpec } from "./http-job-spec.js";

/** A request as the metadata stores it: the task's templates, secrets still unrendered. */
export interface StoredRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: JsonValue;
}

/**
 * What the executor keeps for an HTTP job and sends back on every GetTask and DeleteTask. The requests for
 * status, cancel and result are kept as templates with the values they refer to (`vars`); `secrets.*` and
 * `configs.*` are filled in from each call's connection, so no secret is ever stored (docs/flyte-executor.md §5).
 */
export interface HttpJobMeta {
  readonly job_id: string;
  readonly status: StoredRequest;
  readonly state: string;
  /** The task's own state names → phase. */
  readonly states: Readonly<Record<string, Phase>>;
  readonly message?: string;
  readonly cancel?: StoredRequest;
  readonly result?: StoredRequest;
  /** Output name → JSON pointer. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly output_types: JsonObject;
  /** Values of `inputs.*`, `submit.*` and `idempotency_key` that the stored templates refer to. */
  readonly vars: Readonly<Record<string, JsonValue>>;
  /** Rendered at create; they never hold secrets. */
  readonly log_links: readonly { readonly name: string; readonly uri: string }[];
  readonly request_timeout_ms: number;
  /** Set when the job could not be submitted: get reports it. */
  readonly failure?: string;
  readonly failure_retryable?: boolean;
}

/** A request spec as stored. */
export function storedRequest(spec: HttpRequestSpec): StoredRequest {
  return { method: spec.method, url: spec.url, headers: spec.headers, ...(spec.body === undefined ? {} : { body: spec.body }) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function request(record: MetaRecord, key: string): StoredRequest | undefined {
  const v = record[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || typeof v["method"] !== "string" || typeof v["url"] !== "string" || !isObject(v["headers"])) {
    throw new ResourceMetaError(`field "${key}" must be a request {method, url, headers}`);
  }
  return v as unknown as StoredRequest;
}

function parseHttpJobMeta(record: MetaRecord): HttpJobMeta {
  const status = request(record, "status");
  if (!status) throw new ResourceMetaError(`field "status" is required`);
  const states = optionalField(record, "states", {});
  if (!isObject(states) || !Object.values(states).every((p) => PHASES.includes(p as Phase)))
    throw new ResourceMetaError(`field "states" must map names to phases`);
  const outputs = optionalField(record, "outputs", {});
  if (!isObject(outputs)) throw new ResourceMetaError(`field "outputs" must be an object`);
  const links = optionalField(record, "log_links", []);
  if (!Array.isArray(links)) throw new ResourceMetaError(`field "log_links" must be a list`);
  const cancel = request(record, "cancel");
  const result = request(record, "result");
  const message = record["message"];
  const failure = record["failure"];
  return {
    job_id: requireString(record, "job_id"),
    status,
    state: requireString(record, "state"),
    states: states as Record<string, Phase>,
    ...(typeof message === "string" ? { message } : {}),
    ...(cancel ? { cancel } : {}),
    ...(result ? { result } : {}),
    outputs: outputs as Record<string, string>,
    output_types: optionalField(record, "output_types", {}) as JsonObject,
    vars: optionalField(record, "vars", {}) as Record<string, JsonValue>,
    log_links: links as { name: string; uri: string }[],
    request_timeout_ms: requireNumber(record, "request_timeout_ms"),
    ...(typeof failure === "string" ? { failure, failure_retryable: record["failure_retryable"] === true } : {}),
  };
}

/** The metadata codec: Python-compatible JSON, checked on the way in. */
export const httpJobMetaCodec = jsonResourceMeta<HttpJobMeta>({ parse: parseHttpJobMeta });
