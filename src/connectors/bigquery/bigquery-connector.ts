import type { JsonObject } from "@bufbuild/protobuf";
import { AsyncConnector, type ConnectorContext, type CreateRequest, type GetContext, type LogLink, type Resource } from "../connector.js";
import { ConnectorError } from "../errors.js";
import type { HttpCallResponse } from "../http-job/http-call.js";
import { apiCall, DEFAULT_API_CALL_BUDGET, type ApiCall, type ApiCallBudget } from "../warehouse/api-call.js";
import { datasetResult } from "../warehouse/dataset-result.js";
import { refusedSubmission, refusedSubmissionResource } from "../warehouse/refused-submission.js";
import { vendorSetting } from "../warehouse/vendor-environment.js";
import { customOf, customString, requiredCustomString, sqlStatementOf } from "../warehouse/task-custom.js";
import { BigQueryCredentials } from "./bigquery-auth.js";
import { bigQueryErrorMessage, bigQueryRetryOn } from "./bigquery-errors.js";
import { bigQueryMetaCodec, type BigQueryMeta } from "./bigquery-meta.js";
import { bigQueryParametersFrom } from "./bigquery-parameters.js";

/** Options of {@link BigQueryConnector}; none is a credential. */
export interface BigQueryConnectorOptions {
  /**
   * The BigQuery API's base URL. Default: `BIGQUERY_EMULATOR_HOST` (`host:port` or a URL, the variable
   * Google's clients read for an emulator) if set, else `https://bigquery.googleapis.com`.
   */
  readonly apiEndpoint?: string;
  /** Time and retries of one API call; the default fits the executor's 10 s deadline. */
  readonly callBudget?: ApiCallBudget;
}

/** The secret the Python plugin names for a service-account key: `custom.secrets.google_application_credentials`. */
const CREDENTIALS_SECRET = "google_application_credentials";
/** Keys of `custom` that are the plugin's own, not `QueryJobConfig` fields. */
const PLUGIN_KEYS = new Set(["Location", "ProjectID", "Domain", "secrets"]);

function endpointFrom(option: string | undefined): string {
  const given = option ?? vendorSetting("BIGQUERY_EMULATOR_HOST");
  if (given === undefined) return "https://bigquery.googleapis.com";
  return (/^https?:\/\//.test(given) ? given : `http://${given}`).replace(/\/+$/, "");
}

/** The job's `status` and the parts of its configuration the connector reads (REST `Job`). */
interface BigQueryJob {
  readonly jobReference?: { readonly location?: string };
  readonly status?: { readonly state?: string; readonly errorResult?: { readonly reason?: string; readonly message?: string; readonly location?: string } };
  readonly configuration?: {
    readonly query?: { readonly destinationTable?: { readonly projectId?: string; readonly datasetId?: string; readonly tableId?: string } };
  };
}

/**
 * Runs a BigQuery query job for tasks written with flyte-sdk's `flyteplugins-bigquery` (`BigQueryTask`),
 * unchanged: same task type, version and connector name, the same metadata bytes, log link and output URI
 * as the Python connector. It speaks BigQuery's REST API v2 (jobs.insert, jobs.get, jobs.cancel) and never
 * blocks the event loop; the task's inputs become named parameters (`@name`) typed by the interface.
 * See docs/connectors/bigquery.md.
 */
export class BigQueryConnector extends AsyncConnector<BigQueryMeta> {
  readonly name = "Bigquery Connector";
  readonly taskTypeName = "bigquery_query_job_task";
  override readonly metadata = bigQueryMetaCodec;
  private readonly endpoint: string;
  private readonly budget: ApiCallBudget;
  private readonly credentials = new BigQueryCredentials();

  constructor(options: BigQueryConnectorOptions = {}) {
    super();
    this.endpoint = endpointFrom(options.apiEndpoint);
    this.budget = options.callBudget ?? DEFAULT_API_CALL_BUDGET;
  }

  async create(request: CreateRequest, ctx: ConnectorContext): Promise<BigQueryMeta> {
    const { template } = request;
    const custom = customOf(template);
    const project = requiredCustomString(custom, "ProjectID", "BigQueryConfig(ProjectID=...) names the project the job runs in");
    const location = customString(custom, "Location") ?? null;
    const domain = customString(custom, "Domain") ?? "";
    const userAgent = `Flyte/${template.metadata?.runtime?.version ?? ""} (GPN:Union;${domain})`;
    const statement = sqlStatementOf(template);
    const parameters = bigQueryParametersFrom(request.inputs, template.interface);

    // Every other key of `custom` is a field of QueryJobConfig's REST form, merged there by the plugin.
    const query: JsonObject = {};
    for (const [k, v] of Object.entries(custom)) if (!PLUGIN_KEYS.has(k)) query[k] = v;
    query["query"] = statement;
    // The REST default is legacy SQL, which has no named parameters; the Python client sends false too.
    query["useLegacySql"] ??= false;
    if (parameters.length > 0) {
      query["parameterMode"] = "NAMED";
      query["queryParameters"] = parameters as unknown as JsonObject[];
    }
    // The job id comes from the idempotency key: a repeated CreateTask, or a retried insert whose answer was
    // lost, names the same job, and BigQuery answers 409 instead of running the query twice.
    const jobId = `flyte_connect_${request.idempotencyKey}`;
    const body = { jobReference: { projectId: project, jobId, ...(location === null ? {} : { location }) }, configuration: { query } };
    const headers = await this.headers(ctx, userAgent);
    const res = await this.call(
      { method: "POST", url: `${this.endpoint}/bigquery/v2/projects/${encodeURIComponent(project)}/jobs`, headers, body },
      ctx,
      "submit the query job",
    );
    if (res.status === 409) {
      ctx.log.info({ jobId }, "CreateTask repeated for a BigQuery job already inserted");
    } else if (res.status < 200 || res.status >= 300) {
      // No job exists and a retry would be refused the same way: the task fails, with BigQuery's words.
      const refusal = refusedSubmission(`BigQuery refused the query job: ${bigQueryErrorMessage(res.status, res.json, res.text)}`, ctx, headers);
      return { job_id: jobId, project, location, user_agent: userAgent, ...refusal };
    }
    const actualLocation = (res.json as BigQueryJob | undefined)?.jobReference?.location;
    ctx.log.info({ jobId, project, location: actualLocation ?? location }, "BigQuery job inserted");
    return { job_id: jobId, project, location: actualLocation ?? location, user_agent: userAgent };
  }

  async get(meta: BigQueryMeta, ctx: GetContext): Promise<Resource> {
    const refused = refusedSubmissionResource(meta);
    if (refused) return refused;
    const logLinks = [consoleLink(meta)];
    let res: HttpCallResponse;
    try {
      res = await this.call({ method: "GET", url: this.jobUrl(meta, ""), headers: await this.headers(ctx, meta.user_agent) }, ctx, "read the job");
    } catch (e) {
      if (e instanceof ConnectorError) return { phase: e.retryable ? "RETRYABLE_FAILED" : "FAILED", message: e.message, logLinks };
      throw e;
    }
    if (res.status === 404)
      return {
        phase: "FAILED",
        message: `BigQuery has no job ${meta.job_id} in project ${meta.project}${meta.location ? ` (${meta.location})` : ""}: ${bigQueryErrorMessage(res.status, res.json, res.text)}`,
        logLinks,
      };
    if (res.status < 200 || res.status >= 300)
      return { phase: "FAILED", message: `BigQuery could not report job ${meta.job_id}: ${bigQueryErrorMessage(res.status, res.json, res.text)}`, logLinks };
    const job = (res.json ?? {}) as BigQueryJob;
    const state = job.status?.state;
    const customInfo = { job_id: meta.job_id, ...(state ? { state } : {}) };
    // errorResult is the job's failure; `errors` alone may be warnings of a job that still succeeds.
    const failure = job.status?.errorResult;
    if (failure) {
      const message = `${failure.reason ? `${failure.reason}: ` : ""}${failure.message ?? "the job failed"}`;
      return { phase: failure.reason === "stopped" ? "ABORTED" : "FAILED", message, logLinks, customInfo };
    }
    switch (state) {
      case "PENDING":
        return { phase: "INITIALIZING", message: state, logLinks, customInfo };
      case "RUNNING":
        return { phase: "RUNNING", message: state, logLinks, customInfo };
      case "DONE": {
        const table = job.configuration?.query?.destinationTable;
        if (!table?.projectId || !table.datasetId || !table.tableId) return { phase: "SUCCEEDED", message: state, logLinks, customInfo };
        return { phase: "SUCCEEDED", message: state, logLinks, customInfo, ...datasetResult(`bq://${table.projectId}:${table.datasetId}.${table.tableId}`) };
      }
      default:
        ctx.log.warn({ jobId: meta.job_id, state: state ?? null }, "unknown BigQuery job state; reporting RUNNING");
        return { phase: "RUNNING", message: state ?? "no state", logLinks, customInfo };
    }
  }

  async delete(meta: BigQueryMeta, ctx: ConnectorContext): Promise<void> {
    // A refused job never existed: nothing to cancel.
    if (meta.failure !== undefined) return;
    // A cancel that cannot get through throws, and the executor retries it: the job may still run.
    const res = await this.call(
      { method: "POST", url: this.jobUrl(meta, "/cancel"), headers: await this.headers(ctx, meta.user_agent) },
      ctx,
      "cancel the job",
    );
    // jobs.cancel of a finished job succeeds; 404 means there is nothing to cancel. Anything else would be
    // refused again on every retry, and a failing DeleteTask is retried forever: log it and answer OK.
    if ((res.status >= 200 && res.status < 300) || res.status === 404) {
      ctx.log.info({ jobId: meta.job_id, status: res.status }, "BigQuery job cancel requested");
      return;
    }
    ctx.log.error({ jobId: meta.job_id, problem: bigQueryErrorMessage(res.status, res.json, res.text) }, "BigQuery refused to cancel the job");
  }

  private jobUrl(meta: BigQueryMeta, suffix: string): string {
    const location = meta.location ? `?location=${encodeURIComponent(meta.location)}` : "";
    return `${this.endpoint}/bigquery/v2/projects/${encodeURIComponent(meta.project)}/jobs/${encodeURIComponent(meta.job_id)}${suffix}${location}`;
  }

  private async headers(ctx: ConnectorContext, userAgent: string): Promise<Record<string, string>> {
    return { authorization: await this.credentials.authorization(ctx.secret(CREDENTIALS_SECRET)), "user-agent": userAgent };
  }

  private call(call: Omit<ApiCall, "retryOn" | "vendor" | "what">, ctx: ConnectorContext, what: string): Promise<HttpCallResponse> {
    return apiCall({ ...call, vendor: "BigQuery", what, retryOn: bigQueryRetryOn }, ctx.signal, this.budget);
  }
}

/** The Python connector's link, byte for byte: Python writes a missing location as `None`. */
function consoleLink(meta: BigQueryMeta): LogLink {
  return {
    name: "BigQuery Console",
    uri: `https://console.cloud.google.com/bigquery?project=${meta.project}&j=bq:${meta.location ?? "None"}:${meta.job_id}&page=queryresults`,
    ready: true,
    linkType: "DASHBOARD",
  };
}
