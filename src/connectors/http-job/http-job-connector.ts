import type { JsonValue } from "@bufbuild/protobuf";
import { outputTypesFromJson, outputTypesToJson } from "../../literals/convert.js";
import { AsyncConnector, type ConnectorContext, type CreateRequest, type GetContext, type Resource } from "../connector.js";
import { recordingLookup, type SecretSource } from "../../secrets/secret-lookup.js";
import { ConnectorError, InvalidTaskError } from "../errors.js";
import { phaseFromState } from "../phase.js";
import { displayUrl, excerpt, httpCall, TransientHttpError, type HttpCallRequest, type HttpCallResponse } from "./http-call.js";
import { httpJobMetaCodec, storedRequest, type HttpJobMeta, type StoredRequest } from "./http-job-meta.js";
import { httpJobSpecFrom, requestTemplateNames, stateTableOf, type HttpRequestSpec } from "./http-job-spec.js";
import { jsonPointerGet } from "./json-pointer.js";
import { jsonSafe } from "./json-safe.js";
import { outputsFromAnswer } from "./json-outputs.js";
import { renderJsonTemplate, renderTemplate, TemplateError, type TemplateResolver } from "./http-template.js";

/** Options of {@link HttpJobConnector}; all have defaults, and none holds a credential. */
export interface HttpJobConnectorOptions {
  /** The task type served. Default `"http_job"`. */
  readonly taskTypeName?: string;
  /**
   * How long one RPC may spend on a request including its retries. Default 8000 ms: inside the executor's
   * 10 s deadline, so that a job API that stays down is reported as RETRYABLE_FAILED, not as a timeout.
   */
  readonly callBudgetMs?: number;
}

const DEFAULTS = Object.freeze({ taskTypeName: "http_job", callBudgetMs: 8000 });

/** What the templates of one call can see. */
interface TemplateScope {
  readonly configs: Readonly<Record<string, string>>;
  /** The call's secret lookup: the task's connection, then the service's own sources. */
  readonly secret: SecretSource;
  /** `inputs.*`, `submit.*`, `idempotency_key` (at create from the request, later from the metadata). */
  readonly lookup: (name: string) => unknown;
  readonly jobId?: string;
}

function resolverOf(scope: TemplateScope): TemplateResolver {
  return (name) => {
    if (name === "job_id") return scope.jobId;
    if (name.startsWith("configs.")) return scope.configs[name.slice(8)];
    if (name.startsWith("secrets.")) return scope.secret(name.slice(8));
    return scope.lookup(name);
  };
}

/** `submit.a.b` in a parsed response. */
function submitField(response: unknown, path: string): unknown {
  let current = response;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Replaces every secret value of the call in a text that will be stored or shown. */
export function redact(text: string, secrets: Readonly<Record<string, string>>): string {
  let out = text;
  for (const value of Object.values(secrets)) if (value.length >= 4) out = out.split(value).join("[REDACTED]");
  return out;
}

function renderRequest(spec: StoredRequest, resolve: TemplateResolver): HttpCallRequest {
  const url = renderTemplate(spec.url, resolve, "url");
  if (!/^https?:\/\//i.test(url)) {
    throw new TemplateError(
      `the URL template ${JSON.stringify(spec.url)} does not give an http(s) URL; a base URL from the configs goes in triple braces: {{{configs.base_url}}}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.headers)) headers[k] = renderTemplate(v, resolve, "text");
  let body: string | undefined;
  if (typeof spec.body === "string") body = renderTemplate(spec.body, resolve, "text");
  else if (spec.body !== undefined) {
    body = JSON.stringify(renderJsonTemplate(spec.body, resolve));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  }
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "accept")) headers["accept"] = "application/json";
  return { method: spec.method, url, headers, ...(body === undefined ? {} : { body }) };
}

const is2xx = (status: number) => status >= 200 && status < 300;

/**
 * Renders the request that starts the work (a job's `submit`, a sync call's `request`) from the task's inputs,
 * configs and secrets, with the attempt's idempotency key in `idempotencyHeader` unless the task sets it: a
 * repeated CreateTask, or a retried request whose answer was lost, carries the same key, so an API that honours
 * it does the work once. Also returns the lookup of `inputs.*` and `idempotency_key` the later requests build on.
 */
export function renderFirstRequest(
  spec: HttpRequestSpec,
  key: string,
  idempotencyHeader: string,
  request: CreateRequest,
  ctx: ConnectorContext,
  secret: SecretSource = (name) => ctx.secret(name),
): { call: HttpCallRequest; lookup: (name: string) => unknown } {
  const inputs = jsonSafe(request.inputs) as Record<string, JsonValue>;
  const lookup = (name: string): unknown => {
    if (name === "idempotency_key") return request.idempotencyKey;
    if (name.startsWith("inputs.")) return inputs[name.slice(7)];
    return undefined;
  };
  let call: HttpCallRequest;
  try {
    call = renderRequest(storedRequest(spec), resolverOf({ configs: ctx.configs, secret, lookup }));
  } catch (e) {
    if (e instanceof TemplateError) throw new InvalidTaskError(`custom["${key}"]: ${e.message}`);
    throw e;
  }
  if (idempotencyHeader && !Object.keys(call.headers).some((h) => h.toLowerCase() === idempotencyHeader.toLowerCase())) {
    call = { ...call, headers: { ...call.headers, [idempotencyHeader]: request.idempotencyKey } };
  }
  return { call, lookup };
}

/**
 * Runs a job on any REST job API: submits it (method, URL, body and headers from templates), polls a status
 * URL and maps a field of the JSON answer to a phase with configurable state lists, cancels it on delete,
 * and takes the outputs from the final answer by JSON pointer, typed by the task's interface. Secrets from
 * the task's connection go into headers (or URLs) at each call and are never stored.
 *
 * Transient failures — connection refused, timeouts, 408, 429, 5xx — are retried within the call's budget;
 * if the API stays unreachable, get answers RETRYABLE_FAILED rather than failing the RPC. See
 * docs/connectors/http-job.md for the task configuration.
 *
 * @example
 * const registry = createConnectorRegistry([new HttpJobConnector()]);
 */
export class HttpJobConnector extends AsyncConnector<HttpJobMeta> {
  readonly name = "HTTP Job Connector";
  readonly taskTypeName: string;
  override readonly metadata = httpJobMetaCodec;
  private readonly options: Required<HttpJobConnectorOptions>;

  constructor(options: HttpJobConnectorOptions = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.taskTypeName = this.options.taskTypeName;
  }

  async create(request: CreateRequest, ctx: ConnectorContext): Promise<HttpJobMeta> {
    const spec = httpJobSpecFrom(request.template.custom, request.outputTypes);
    const secrets = recordingLookup((name) => ctx.secret(name));
    const { call: submit, lookup: early } = renderFirstRequest(spec.submit, "submit", spec.idempotencyHeader, request, ctx, secrets.lookup);
    const base = {
      job_id: "",
      status: storedRequest(spec.status),
      state: spec.statePointer,
      states: spec.states,
      ...(spec.messagePointer ? { message: spec.messagePointer } : {}),
      ...(spec.cancel ? { cancel: storedRequest(spec.cancel) } : {}),
      ...(spec.result ? { result: storedRequest(spec.result) } : {}),
      outputs: spec.outputs,
      output_types: outputTypesToJson(request.outputTypes),
      vars: {},
      log_links: [],
      request_timeout_ms: spec.requestTimeoutMs,
    } satisfies HttpJobMeta;
    const failed = (message: string, retryable: boolean): HttpJobMeta => {
      ctx.log.warn({ retryable }, "job submission failed");
      // Stored in the metadata: no value of a secret this call used may stay in it, whatever its source.
      return { ...base, failure: redact(message, { ...ctx.secrets, ...secrets.resolved }), failure_retryable: retryable };
    };

    let response: HttpCallResponse;
    try {
      response = await this.call(submit, spec.requestTimeoutMs, ctx.signal);
    } catch (e) {
      if (e instanceof TransientHttpError) return failed(`could not submit the job: ${e.message}`, true);
      if (e instanceof ConnectorError) return failed(`could not submit the job: ${e.message}`, false);
      throw e;
    }
    if (!is2xx(response.status)) {
      return failed(`the job API refused the job: HTTP ${response.status} from ${submit.method} ${displayUrl(submit.url)}: ${excerpt(response.text)}`, false);
    }
    const id = response.json === undefined ? { found: false as const } : jsonPointerGet(response.json, spec.jobIdPointer);
    if (!id.found || (typeof id.value !== "string" && typeof id.value !== "number") || id.value === "") {
      return failed(`the job API's answer to the submission has no job id at ${spec.jobIdPointer}: ${excerpt(response.text)}`, false);
    }
    const jobId = String(id.value);

    // Keep what the later requests refer to, except configs and secrets, which come with every call.
    const later = (name: string): unknown => (name.startsWith("submit.") ? submitField(response.json, name.slice(7)) : early(name));
    const resolve = resolverOf({ configs: ctx.configs, secret: (name) => ctx.secret(name), lookup: later, jobId });
    const vars: Record<string, JsonValue> = {};
    for (const name of [...requestTemplateNames(spec.status), ...requestTemplateNames(spec.cancel), ...requestTemplateNames(spec.result)]) {
      if (name === "job_id" || name.startsWith("configs.") || name.startsWith("secrets.")) continue;
      const value = later(name);
      if (value === undefined) return failed(`the job's status, cancel or result request refers to {{${name}}}, which has no value (job ${jobId})`, false);
      vars[name] = jsonSafe(value) as JsonValue;
    }
    let logLinks: { name: string; uri: string }[];
    try {
      logLinks = spec.logLinks.map((l) => ({ name: l.name, uri: renderTemplate(l.url, resolve, "url") }));
    } catch (e) {
      if (e instanceof TemplateError) return failed(`custom["log_links"]: ${e.message}`, false);
      throw e;
    }
    ctx.log.info({ jobId, status: response.status }, "job submitted");
    return { ...base, job_id: jobId, vars, log_links: logLinks };
  }

  async get(meta: HttpJobMeta, ctx: GetContext): Promise<Resource> {
    if (meta.failure !== undefined) return { phase: meta.failure_retryable ? "RETRYABLE_FAILED" : "FAILED", message: meta.failure };
    const logLinks = meta.log_links.map((l) => ({ name: l.name, uri: l.uri, showWhilePending: true }));
    const resolve = this.resolverFor(meta, ctx, (name) => ctx.secret(name));
    const fetchJson = async (stored: StoredRequest, what: string): Promise<{ json?: unknown; problem?: Resource }> => {
      let req: HttpCallRequest;
      try {
        req = renderRequest(stored, resolve);
      } catch (e) {
        if (e instanceof TemplateError) return { problem: { phase: "FAILED", message: `job ${meta.job_id}: ${e.message}`, logLinks } };
        throw e;
      }
      let res: HttpCallResponse;
      try {
        res = await this.call(req, meta.request_timeout_ms, ctx.signal);
      } catch (e) {
        if (e instanceof TransientHttpError)
          return { problem: { phase: "RETRYABLE_FAILED", message: `could not read the ${what} of job ${meta.job_id}: ${e.message}`, logLinks } };
        throw e;
      }
      if (res.status === 404)
        return { problem: { phase: "FAILED", message: `job ${meta.job_id} is unknown to the job API (HTTP 404 from ${displayUrl(req.url)})`, logLinks } };
      if (!is2xx(res.status)) {
        return {
          problem: {
            phase: "FAILED",
            message: `the job API answered HTTP ${res.status} for the ${what} of job ${meta.job_id}: ${excerpt(res.text)}`,
            logLinks,
          },
        };
      }
      if (res.json === undefined)
        return { problem: { phase: "FAILED", message: `the ${what} of job ${meta.job_id} is not JSON: ${excerpt(res.text)}`, logLinks } };
      return { json: res.json };
    };

    const status = await fetchJson(meta.status, "status");
    if (status.problem) return status.problem;
    const stateAt = jsonPointerGet(status.json, meta.state);
    const state = stateAt.found && (typeof stateAt.value === "string" || typeof stateAt.value === "number") ? String(stateAt.value) : undefined;
    const decision = phaseFromState(state, stateTableOf(meta.states));
    if (!decision.known) ctx.log.warn({ jobId: meta.job_id, state: state ?? null }, "unknown job state; reporting RUNNING");
    const detail = meta.message ? jsonPointerGet(status.json, meta.message) : { found: false as const };
    const detailText =
      detail.found && detail.value !== null && detail.value !== "" ? (typeof detail.value === "string" ? detail.value : JSON.stringify(detail.value)) : "";
    const message = `job ${meta.job_id}: ${state ?? `no state at ${meta.state}`}${detailText ? `: ${detailText}` : ""}`;
    const customInfo = { job_id: meta.job_id, ...(state === undefined ? {} : { state }) };
    if (decision.phase !== "SUCCEEDED" || Object.keys(meta.outputs).length === 0) return { phase: decision.phase, message, logLinks, customInfo };

    let doc = status.json;
    if (meta.result) {
      const result = await fetchJson(meta.result, "result");
      if (result.problem) return result.problem;
      doc = result.json;
    }
    const outputTypes = outputTypesFromJson(meta.output_types);
    const read = outputsFromAnswer(doc, meta.outputs, outputTypes);
    if ("missing" in read) {
      return {
        phase: "FAILED",
        message: `job ${meta.job_id} succeeded, but its final answer has nothing at ${read.missing.pointer} for output "${read.missing.name}"`,
        logLinks,
        customInfo,
      };
    }
    const outputs = read.outputs;
    return { phase: "SUCCEEDED", message, logLinks, outputs, outputTypes, customInfo };
  }

  async delete(meta: HttpJobMeta, ctx: ConnectorContext): Promise<void> {
    // Nothing was submitted, or the API has no way to cancel: nothing to do, and DeleteTask must succeed.
    if (meta.failure !== undefined || !meta.cancel) return;
    let req: HttpCallRequest;
    const secrets = recordingLookup((name) => ctx.secret(name));
    try {
      req = renderRequest(meta.cancel, this.resolverFor(meta, ctx, secrets.lookup));
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      ctx.log.error({ jobId: meta.job_id, problem: e.message }, "cannot build the cancel request; the job is left alone");
      return;
    }
    // A cancel that cannot get through is an error the executor retries (every 10 s): the job may still run.
    let res: HttpCallResponse;
    try {
      res = await this.call(req, meta.request_timeout_ms, ctx.signal);
    } catch (e) {
      // An answer too large to read would be too large on every retry: the cancel went through or it never will.
      if (!(e instanceof ConnectorError)) throw e;
      ctx.log.error({ jobId: meta.job_id, problem: e.message }, "cannot read the job API's answer to the cancel");
      return;
    }
    // 404/409/410: unknown, already finished, gone — the job is not running, which is what delete wants.
    if (is2xx(res.status) || [404, 409, 410].includes(res.status)) {
      ctx.log.info({ jobId: meta.job_id, status: res.status }, "job cancelled");
      return;
    }
    // Any other refusal (401, 403, 400) would be refused again on every retry, and a DeleteTask error keeps
    // the executor's finalizer retrying forever (docs/flyte-executor.md §4.6): log it, loudly, and answer OK.
    ctx.log.error(
      { jobId: meta.job_id, status: res.status, body: excerpt(redact(res.text, { ...ctx.secrets, ...secrets.resolved })) },
      "the job API refused to cancel the job",
    );
  }

  private resolverFor(meta: HttpJobMeta, ctx: ConnectorContext, secret: SecretSource): TemplateResolver {
    return resolverOf({ configs: ctx.configs, secret, jobId: meta.job_id, lookup: (name) => meta.vars[name] });
  }

  private call(req: HttpCallRequest, requestTimeoutMs: number, signal: AbortSignal): Promise<HttpCallResponse> {
    return httpCall(req, { signal, budgetMs: this.options.callBudgetMs, requestTimeoutMs });
  }
}
