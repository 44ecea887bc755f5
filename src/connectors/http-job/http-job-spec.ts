import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { OutputTypes } from "../connector.js";
import { InvalidTaskError } from "../errors.js";
import { DEFAULT_STATE_TABLE, type Phase, type StateTable } from "../phase.js";
import { isJsonPointer } from "./json-pointer.js";
import { jsonTemplateNames, templateNames } from "./http-template.js";

/** One HTTP request, as templates. */
export interface HttpRequestSpec {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A JSON template, or a text template when it is a string. */
  readonly body?: JsonValue;
}

/**
 * An HTTP job task's configuration, from `TaskTemplate.custom`:
 *
 * | key | meaning |
 * |---|---|
 * | `submit` | the request that starts the job: `{method (POST), url, headers, body}` |
 * | `job_id` | JSON pointer to the job's id in the submit response (default `/id`) |
 * | `status` | the request that reads the job's state: `{method (GET), url, headers}`, or just the URL |
 * | `state` | JSON pointer to the state in the status response (default `/status`) |
 * | `states` | phase → list of state names (`succeeded`, `failed`, `running`, `queued`, `initializing`, `waiting_for_resources`, `retryable_failed`, `aborted`), on top of the common names |
 * | `message` | JSON pointer to a message in the status response, shown with the phase |
 * | `cancel` | the request that cancels the job (DeleteTask): `{method (DELETE), url, headers, body}` |
 * | `result` | optional request for the outputs once the job succeeded; by default the final status response |
 * | `outputs` | output name → JSON pointer into that response (default `/<name>`) |
 * | `log_links` | `[{name, url}]`, rendered once the job exists |
 * | `headers` | headers sent with every request |
 * | `request_timeout_ms` | one attempt's timeout (default 5000) |
 * | `idempotency_header` | header carrying the attempt's idempotency key on submit (default `Idempotency-Key`; `""` for none) |
 *
 * Strings are templates (see http-template.ts); `secrets.*` are rendered at each call and never stored.
 */
export interface HttpJobSpec {
  readonly submit: HttpRequestSpec;
  readonly jobIdPointer: string;
  readonly status: HttpRequestSpec;
  readonly statePointer: string;
  /** Only the task's own state names; merged over {@link DEFAULT_STATE_TABLE} when used. */
  readonly states: StateTable;
  readonly messagePointer?: string;
  readonly cancel?: HttpRequestSpec;
  readonly result?: HttpRequestSpec;
  readonly outputs: Readonly<Record<string, string>>;
  readonly logLinks: readonly { readonly name: string; readonly url: string }[];
  readonly requestTimeoutMs: number;
  readonly idempotencyHeader: string;
}

const PHASE_KEYS: Readonly<Record<string, Phase>> = {
  queued: "QUEUED",
  waiting_for_resources: "WAITING_FOR_RESOURCES",
  initializing: "INITIALIZING",
  running: "RUNNING",
  succeeded: "SUCCEEDED",
  failed: "FAILED",
  retryable_failed: "RETRYABLE_FAILED",
  aborted: "ABORTED",
};

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === "string")) throw new InvalidTaskError(`${where} must map names to strings`);
  return v as Record<string, string>;
}

function pointer(v: unknown, where: string, fallback?: string): string {
  const p = v === undefined || v === null ? fallback : v;
  if (typeof p !== "string" || !isJsonPointer(p)) throw new InvalidTaskError(`${where} must be a JSON pointer such as "/status", got ${JSON.stringify(p)}`);
  return p;
}

function requestSpec(v: unknown, where: string, defaultMethod: string, common: Record<string, string>): HttpRequestSpec {
  const spec = typeof v === "string" ? { url: v } : v;
  if (!isObject(spec) || typeof spec["url"] !== "string" || spec["url"] === "") throw new InvalidTaskError(`custom["${where}"] needs a "url"`);
  const method = (spec["method"] ?? defaultMethod) as string;
  if (typeof method !== "string" || !METHODS.includes(method.toUpperCase())) {
    throw new InvalidTaskError(`custom["${where}"]["method"] must be one of ${METHODS.join(", ")}`);
  }
  const body = spec["body"];
  return {
    method: method.toUpperCase(),
    url: spec["url"],
    headers: { ...common, ...stringMap(spec["headers"], `custom["${where}"]["headers"]`) },
    ...(body === undefined || body === null ? {} : { body }),
  };
}

function nonNegative(v: unknown, where: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new InvalidTaskError(`${where} must be a positive number`);
  return v;
}

/** Every template of a request: its URL, headers and body. */
export function requestTemplateNames(spec: HttpRequestSpec | undefined): string[] {
  if (!spec) return [];
  return [...templateNames(spec.url), ...Object.values(spec.headers).flatMap(templateNames), ...jsonTemplateNames(spec.body)];
}

/** An HTTP call task's configuration (sync mode: one request whose answer holds the outputs). */
export interface HttpCallSpec {
  readonly request: HttpRequestSpec;
  readonly outputs: Readonly<Record<string, string>>;
  readonly requestTimeoutMs: number;
  readonly idempotencyHeader: string;
}

/** Output name → JSON pointer, one for every declared output (default `/<name>`). */
function outputPointers(custom: JsonObject, outputTypes: OutputTypes): Record<string, string> {
  const rawOutputs = stringMap(custom["outputs"], 'custom["outputs"]');
  const outputs: Record<string, string> = {};
  for (const name of Object.keys(rawOutputs)) {
    if (!Object.hasOwn(outputTypes, name)) throw new InvalidTaskError(`custom["outputs"] names "${name}", which is not an output of the task`);
  }
  for (const name of Object.keys(outputTypes)) {
    outputs[name] = pointer(rawOutputs[name], `custom["outputs"]["${name}"]`, `/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`);
  }
  return outputs;
}

function idempotencyHeaderOf(custom: JsonObject): string {
  const idempotencyHeader = custom["idempotency_header"] ?? "Idempotency-Key";
  if (typeof idempotencyHeader !== "string") throw new InvalidTaskError('custom["idempotency_header"] must be a header name, or "" for none');
  return idempotencyHeader;
}

/**
 * Reads a sync HTTP call's configuration: `request` (`{method (POST), url, headers, body}`), `headers`,
 * `outputs`, `request_timeout_ms` and `idempotency_header`, as for a job's `submit`.
 */
export function httpCallSpecFrom(custom: JsonObject | undefined, outputTypes: OutputTypes): HttpCallSpec {
  if (!custom) throw new InvalidTaskError('an HTTP call task needs its configuration in custom: at least "request"');
  const common = stringMap(custom["headers"], 'custom["headers"]');
  return {
    request: requestSpec(custom["request"], "request", "POST", common),
    outputs: outputPointers(custom, outputTypes),
    requestTimeoutMs: nonNegative(custom["request_timeout_ms"], 'custom["request_timeout_ms"]', 5000),
    idempotencyHeader: idempotencyHeaderOf(custom),
  };
}

/** Reads and checks the task's configuration; throws {@link InvalidTaskError} naming what is wrong. */
export function httpJobSpecFrom(custom: JsonObject | undefined, outputTypes: OutputTypes): HttpJobSpec {
  if (!custom) throw new InvalidTaskError('an HTTP job task needs its configuration in custom: at least "submit" and "status"');
  const common = stringMap(custom["headers"], 'custom["headers"]');
  const submit = requestSpec(custom["submit"], "submit", "POST", common);
  const status = requestSpec(custom["status"], "status", "GET", common);
  const cancel = custom["cancel"] === undefined || custom["cancel"] === null ? undefined : requestSpec(custom["cancel"], "cancel", "DELETE", common);
  const result = custom["result"] === undefined || custom["result"] === null ? undefined : requestSpec(custom["result"], "result", "GET", common);

  const states: Record<string, Phase> = {};
  const rawStates = custom["states"] ?? {};
  if (!isObject(rawStates)) throw new InvalidTaskError('custom["states"] must map phases to lists of state names');
  for (const [key, names] of Object.entries(rawStates)) {
    const phase = PHASE_KEYS[key.toLowerCase()];
    if (!phase) throw new InvalidTaskError(`custom["states"] has an unknown phase "${key}" (phases: ${Object.keys(PHASE_KEYS).join(", ")})`);
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) throw new InvalidTaskError(`custom["states"]["${key}"] must be a list of strings`);
    for (const name of names as string[]) states[name.trim().toLowerCase()] = phase;
  }

  const outputs = outputPointers(custom, outputTypes);

  const rawLinks = custom["log_links"] ?? [];
  if (!Array.isArray(rawLinks)) throw new InvalidTaskError('custom["log_links"] must be a list of {name, url}');
  const logLinks = rawLinks.map((l, i) => {
    if (!isObject(l) || typeof l["name"] !== "string" || typeof l["url"] !== "string")
      throw new InvalidTaskError(`custom["log_links"][${i}] must be {name, url}`);
    // Log links are shown in the UI and stored by the executor: a secret must never be part of one.
    if (templateNames(l["url"]).some((n) => n.startsWith("secrets."))) throw new InvalidTaskError(`custom["log_links"][${i}] must not use secrets`);
    return { name: l["name"], url: l["url"] };
  });

  const idempotencyHeader = idempotencyHeaderOf(custom);
  const messagePointer = custom["message"];

  return {
    submit,
    jobIdPointer: pointer(custom["job_id"], 'custom["job_id"]', "/id"),
    status,
    statePointer: pointer(custom["state"], 'custom["state"]', "/status"),
    states,
    ...(messagePointer === undefined || messagePointer === null ? {} : { messagePointer: pointer(messagePointer, 'custom["message"]') }),
    ...(cancel ? { cancel } : {}),
    ...(result ? { result } : {}),
    outputs,
    logLinks,
    requestTimeoutMs: nonNegative(custom["request_timeout_ms"], 'custom["request_timeout_ms"]', 5000),
    idempotencyHeader,
  };
}

/** The state table a job's states are read with: the task's names over the common ones. */
export function stateTableOf(states: StateTable): StateTable {
  return { ...DEFAULT_STATE_TABLE, ...states };
}
