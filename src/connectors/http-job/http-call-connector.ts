import type { ConnectorContext, CreateRequest } from "../connector.js";
import { ConnectorError } from "../errors.js";
import { SyncConnector } from "../sync-connector.js";
import { displayUrl, excerpt, httpCall, TransientHttpError } from "./http-call.js";
import { recordingLookup } from "../../secrets/secret-lookup.js";
import { redact, renderFirstRequest } from "./http-job-connector.js";
import { httpCallSpecFrom } from "./http-job-spec.js";
import { outputsFromAnswer } from "./json-outputs.js";

/** Options of {@link HttpCallConnector}. */
export interface HttpCallConnectorOptions {
  /** The task type served. Default `"http_call"`. */
  readonly taskTypeName?: string;
  /** How long one call may spend on the request including its retries. Default 8000 ms, inside the executor's 10 s. */
  readonly callBudgetMs?: number;
}

const is2xx = (status: number) => status >= 200 && status < 300;

/**
 * The HTTP job connector's sync mode, for APIs that answer at once (a webhook, a model endpoint, a lookup): one
 * request, rendered from templates as the job's `submit` is, and the outputs taken from its JSON answer by JSON
 * pointer. No job id, no polling, nothing to cancel. Flyte 1 runs it with ExecuteTaskSync; Flyte 2 with
 * CreateTask and one GetTask. Transient failures are retried within the budget and then end RETRYABLE_FAILED;
 * a refusal (4xx) or an answer without an output is FAILED. See docs/connectors/http-job.md.
 */
export class HttpCallConnector extends SyncConnector {
  readonly name = "HTTP Call Connector";
  readonly taskTypeName: string;
  private readonly callBudgetMs: number;

  constructor(options: HttpCallConnectorOptions = {}) {
    super();
    this.taskTypeName = options.taskTypeName ?? "http_call";
    this.callBudgetMs = options.callBudgetMs ?? 8000;
  }

  async execute(request: CreateRequest, ctx: ConnectorContext): Promise<Record<string, unknown>> {
    const spec = httpCallSpecFrom(request.template.custom, request.outputTypes);
    const secrets = recordingLookup((name) => ctx.secret(name));
    const { call } = renderFirstRequest(spec.request, "request", spec.idempotencyHeader, request, ctx, secrets.lookup);
    const used = { ...ctx.secrets, ...secrets.resolved };
    let response;
    try {
      response = await httpCall(call, { signal: ctx.signal, budgetMs: this.callBudgetMs, requestTimeoutMs: spec.requestTimeoutMs });
    } catch (e) {
      if (e instanceof TransientHttpError) throw ConnectorError.retryable(redact(`the API could not be reached: ${e.message}`, used));
      throw e;
    }
    const where = `${call.method} ${displayUrl(call.url)}`;
    if (!is2xx(response.status))
      throw ConnectorError.permanent(redact(`the API refused the call: HTTP ${response.status} from ${where}: ${excerpt(response.text)}`, used));
    if (Object.keys(spec.outputs).length === 0) return {};
    if (response.json === undefined) throw ConnectorError.permanent(redact(`the answer of ${where} is not JSON: ${excerpt(response.text)}`, used));
    const read = outputsFromAnswer(response.json, spec.outputs, request.outputTypes);
    if ("missing" in read) throw ConnectorError.permanent(`the answer of ${where} has nothing at ${read.missing.pointer} for output "${read.missing.name}"`);
    return read.outputs;
  }
}
