import type { JsonObject } from "@bufbuild/protobuf";
import { AsyncConnector, type ConnectorContext, type CreateRequest, type GetContext, type LogLink, type Resource } from "../connector.js";
import { ConnectorError, InvalidTaskError } from "../errors.js";
import { excerpt, type HttpCallResponse } from "../http-job/http-call.js";
import { apiCall, DEFAULT_API_CALL_BUDGET, type ApiCall, type ApiCallBudget } from "../warehouse/api-call.js";
import { refusedSubmission, refusedSubmissionResource } from "../warehouse/refused-submission.js";
import { environmentCredential, vendorSetting } from "../warehouse/vendor-environment.js";
import { customOf, customString } from "../warehouse/task-custom.js";
import { databricksMetaCodec, type DatabricksMeta } from "./databricks-meta.js";
import { databricksMessage, databricksPhase, type DatabricksRunState } from "./databricks-run-state.js";
import { databricksRunSpecFrom } from "./databricks-run-spec.js";

/** Options of {@link DatabricksConnector}; none is a credential. */
export interface DatabricksConnectorOptions {
  /** One base URL for every workspace (a proxy, a local test server). Default `https://{databricks_instance}`. */
  readonly baseUrl?: string;
  /** Time and retries of one API call; the default fits the executor's 10 s deadline. */
  readonly callBudget?: ApiCallBudget;
}

/** The Python plugin's secret name (`custom.secrets.databricks_token`), resolved by the executor. */
const TOKEN_SECRET = "databricks_token";
const JOBS_API = "/api/2.1/jobs";

/** A workspace as a host, as the Python metadata holds it: `https://x.cloud.databricks.com/` → `x.cloud.databricks.com`. */
function hostOf(instance: string): string {
  return instance.replace(/^https?:\/\//i, "").replace(/\/+$/, "");
}

/** Databricks' error body: `{"error_code": "INVALID_PARAMETER_VALUE", "message": "…"}`. */
function databricksError(res: HttpCallResponse): string {
  const body = (typeof res.json === "object" && res.json !== null ? res.json : {}) as { error_code?: unknown; message?: unknown };
  if (typeof body.message === "string") return `HTTP ${res.status}${typeof body.error_code === "string" ? ` ${body.error_code}` : ""}: ${body.message}`;
  return `HTTP ${res.status}${res.text ? `: ${excerpt(res.text)}` : ""}`;
}

/** The Python connector's link: no `ready`, the default link type. */
function consoleLink(instance: string, jobId: unknown, runId: string): LogLink {
  return { name: "Databricks Console", uri: `https://${instance}/#job/${String(jobId)}/run/${runId}` };
}

/**
 * Runs a Databricks job for tasks written with flyte-sdk's `flyteplugins-databricks` (`Databricks` task
 * environments), unchanged: same task type, version and connector name and the same metadata bytes as the
 * Python connector. It submits a one-time run (Jobs API 2.1 `runs/submit`) from the task's SparkJob
 * configuration with the executor-rendered container arguments, maps every `runs/get` state, cancels on
 * delete, and links the run page. The run writes the task's `outputs.pb` itself, so a SUCCEEDED run has
 * no inline outputs. See docs/connectors/databricks.md.
 */
export class DatabricksConnector extends AsyncConnector<DatabricksMeta> {
  readonly name = "Databricks Connector";
  readonly taskTypeName = "databricks";
  override readonly metadata = databricksMetaCodec;
  private readonly options: DatabricksConnectorOptions;
  private readonly budget: ApiCallBudget;

  constructor(options: DatabricksConnectorOptions = {}) {
    super();
    this.options = options;
    this.budget = options.callBudget ?? DEFAULT_API_CALL_BUDGET;
  }

  async create(request: CreateRequest, ctx: ConnectorContext): Promise<DatabricksMeta> {
    const custom = customOf(request.template);
    const given = customString(custom, "databricksInstance") ?? vendorSetting("FLYTE_DATABRICKS_INSTANCE") ?? vendorSetting("DATABRICKS_HOST");
    if (!given) {
      throw new InvalidTaskError(
        "Missing databricks instance. Please set the value through the task config (databricks_instance) or set FLYTE_DATABRICKS_INSTANCE or DATABRICKS_HOST in the service's environment.",
      );
    }
    const instance = hostOf(given);
    const body: JsonObject = databricksRunSpecFrom(request.template, custom, request.idempotencyKey);
    const headers = await this.headers(ctx);
    const res = await this.call({ method: "POST", url: `${this.base(instance)}${JOBS_API}/runs/submit`, headers, body }, ctx, "submit the run");
    const runId = (res.json as { run_id?: unknown } | undefined)?.run_id;
    if (res.status !== 200 || (typeof runId !== "number" && typeof runId !== "string")) {
      // No run exists and a retry would be refused the same way: the task fails, with Databricks' words.
      return { databricks_instance: instance, run_id: "", ...refusedSubmission(`Databricks refused the run: ${databricksError(res)}`, ctx, headers) };
    }
    ctx.log.info({ runId, instance }, "Databricks run submitted");
    return { databricks_instance: instance, run_id: String(runId) };
  }

  async get(meta: DatabricksMeta, ctx: GetContext): Promise<Resource> {
    const refused = refusedSubmissionResource(meta);
    if (refused) return refused;
    let res: HttpCallResponse;
    try {
      res = await this.call(
        { method: "GET", url: `${this.base(meta.databricks_instance)}${JOBS_API}/runs/get?run_id=${meta.run_id}`, headers: await this.headers(ctx) },
        ctx,
        "read the run",
      );
    } catch (e) {
      if (e instanceof ConnectorError) return { phase: e.retryable ? "RETRYABLE_FAILED" : "FAILED", message: e.message };
      throw e;
    }
    if (res.status !== 200) return { phase: "FAILED", message: `Databricks could not report run ${meta.run_id}: ${databricksError(res)}` };
    const run = (res.json ?? {}) as { job_id?: unknown; state?: DatabricksRunState };
    const decision = databricksPhase(run.state);
    if (!decision.known) ctx.log.warn({ runId: meta.run_id, state: run.state ?? null }, "undocumented Databricks run state");
    const customInfo: JsonObject = {
      run_id: meta.run_id,
      ...(run.state?.life_cycle_state ? { life_cycle_state: run.state.life_cycle_state } : {}),
      ...(run.state?.result_state ? { result_state: run.state.result_state } : {}),
    };
    return {
      phase: decision.phase,
      message: databricksMessage(run.state),
      logLinks: [consoleLink(meta.databricks_instance, run.job_id, meta.run_id)],
      customInfo,
    };
  }

  async delete(meta: DatabricksMeta, ctx: ConnectorContext): Promise<void> {
    // A refused run never existed: nothing to cancel.
    if (meta.failure !== undefined) return;
    let headers: Record<string, string>;
    try {
      headers = await this.headers(ctx);
    } catch (e) {
      // Without a token nothing can be cancelled, now or on any retry; a failing DeleteTask is retried forever.
      if (e instanceof ConnectorError && !e.retryable) {
        ctx.log.error({ runId: meta.run_id, problem: e.message }, "cannot cancel the Databricks run");
        return;
      }
      throw e;
    }
    // The API's run_id is an integer (the Python connector sends a string). A cancel that cannot get
    // through throws, and the executor retries it: the run may still be going.
    const res = await this.call(
      { method: "POST", url: `${this.base(meta.databricks_instance)}${JOBS_API}/runs/cancel`, headers, body: { run_id: Number(meta.run_id) } },
      ctx,
      "cancel the run",
    );
    // Cancelling a finished run is a no-op; an unknown run (400 or 404) has nothing to cancel. Any other
    // refusal would come back on every retry: log it and answer OK.
    if (res.status === 200 || res.status === 400 || res.status === 404) {
      ctx.log.info({ runId: meta.run_id, status: res.status }, "Databricks run cancel requested");
      return;
    }
    ctx.log.error({ runId: meta.run_id, problem: databricksError(res) }, "Databricks refused to cancel the run");
  }

  private base(instance: string): string {
    return this.options.baseUrl ? this.options.baseUrl.replace(/\/+$/, "") : `https://${instance}`;
  }

  /** The token: the task's secret, else the service's `DATABRICKS_TOKEN`, else the file `DATABRICKS_TOKEN_FILE` names. */
  private async headers(ctx: ConnectorContext): Promise<Record<string, string>> {
    const token = ctx.secret(TOKEN_SECRET) ?? (await environmentCredential({ value: "DATABRICKS_TOKEN", file: "DATABRICKS_TOKEN_FILE" }));
    if (!token) {
      throw ConnectorError.permanent(
        `no Databricks token: the task's connection has no "${TOKEN_SECRET}" secret and the service has neither DATABRICKS_TOKEN nor DATABRICKS_TOKEN_FILE`,
      );
    }
    return { authorization: `Bearer ${token}` };
  }

  private call(call: Omit<ApiCall, "vendor" | "what">, ctx: ConnectorContext, what: string): Promise<HttpCallResponse> {
    return apiCall({ ...call, vendor: "Databricks", what }, ctx.signal, this.budget);
  }
}
