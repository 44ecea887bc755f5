import type { JsonObject } from "@bufbuild/protobuf";
import { AsyncConnector, type ConnectorContext, type CreateRequest, type GetContext, type LogLink, type Resource } from "../connector.js";
import { ConnectorError, InvalidTaskError } from "../errors.js";
import { excerpt, type HttpCallResponse } from "../http-job/http-call.js";
import { apiCall, DEFAULT_API_CALL_BUDGET, type ApiCall, type ApiCallBudget } from "../warehouse/api-call.js";
import { datasetResult } from "../warehouse/dataset-result.js";
import { refusedSubmission, refusedSubmissionResource } from "../warehouse/refused-submission.js";
import { environmentCredential } from "../warehouse/vendor-environment.js";
import { customObject, customOf, customString, requiredCustomString, sqlStatementOf } from "../warehouse/task-custom.js";
import { SnowflakeKeyPairTokens } from "./snowflake-key-pair-jwt.js";
import { snowflakeMetaCodec, type SnowflakeMeta } from "./snowflake-meta.js";
import { bindPyformat, expandBatch } from "./snowflake-statement.js";

/** Options of {@link SnowflakeConnector}; none is a credential. */
export interface SnowflakeConnectorOptions {
  /**
   * One base URL for every account, such as a private-link host or a local test server. Default: each
   * task's `connection_kwargs` `host`/`port`/`protocol` (the Python driver's settings), else
   * `https://{account}.snowflakecomputing.com`.
   */
  readonly baseUrl?: string;
  /** Time and retries of one API call; the default fits the executor's 10 s deadline. */
  readonly callBudget?: ApiCallBudget;
}

/** The Python plugin's secret names (`custom.secrets`), resolved by the executor into the connection. */
const KEY_SECRET = "snowflake_private_key";
const PASSPHRASE_SECRET = "snowflake_private_key_passphrase";

/** A SQL API answer: QueryStatus (202, 422, 408) or ResultSet (200); both carry these. */
interface StatementAnswer {
  readonly code?: string;
  readonly message?: string;
  readonly sqlState?: string;
  readonly statementHandle?: string;
}

/** SQLSTATE 57014, "query canceled": a statement stopped by a cancel request, not a failure of its own. */
const CANCELLED_SQLSTATE = "57014";

function answerOf(res: HttpCallResponse): StatementAnswer {
  return typeof res.json === "object" && res.json !== null ? (res.json as StatementAnswer) : {};
}

/** Snowflake's own words: `SQL compilation error: … (code 002003, SQLSTATE 02000)`. */
function snowflakeMessage(res: HttpCallResponse): string {
  const a = answerOf(res);
  if (typeof a.message !== "string") return `HTTP ${res.status}${res.text ? `: ${excerpt(res.text)}` : ""}`;
  const codes = [a.code ? `code ${a.code}` : "", a.sqlState ? `SQLSTATE ${a.sqlState}` : ""].filter((s) => s !== "").join(", ");
  return `${a.message}${codes ? ` (${codes})` : ""}`;
}

/** A UUID from the idempotency key (32 hex digits), for the SQL API's `requestId`. */
function requestIdOf(key: string): string {
  const hex = key
    .replace(/[^0-9a-f]/gi, "")
    .padEnd(32, "0")
    .slice(0, 32)
    .toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The Python connector's query link: an `org-account` identifier splits into the org and account path. */
function consoleLink(account: string, queryId: string): LogLink {
  const dash = account.indexOf("-");
  const base = dash > 0 ? `https://app.snowflake.com/${account.slice(0, dash)}/${account.slice(dash + 1)}` : `https://app.snowflake.com/${account}`;
  return { name: "Snowflake Dashboard", uri: `${base}/#/compute/history/queries/${queryId}/detail`, ready: true, linkType: "DASHBOARD" };
}

const is2xx = (status: number) => status >= 200 && status < 300;

/** Driver settings that are credentials; the Python connector stores them in the metadata, we never do. */
const CREDENTIAL_KWARGS = /^(password|passcode|token|private_key|private_key_file|private_key_file_pwd|oauth_.*)$/i;

/**
 * `connection_kwargs` as kept in the metadata: without credentials (the SQL API authenticates with the
 * key pair only, and the executor stores metadata in plain sight), with the rest as given.
 */
function withoutCredentials(kwargs: JsonObject, ctx: ConnectorContext): JsonObject {
  const kept: JsonObject = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(kwargs)) {
    if (CREDENTIAL_KWARGS.test(k)) dropped.push(k);
    else kept[k] = v;
  }
  if (dropped.length > 0) ctx.log.warn({ dropped }, "connection_kwargs credentials are not used: the SQL API authenticates with the key pair");
  return kept;
}

/**
 * Runs a Snowflake statement for tasks written with flyte-sdk's `flyteplugins-snowflake` (`Snowflake`),
 * unchanged: same task type, version and connector name, the same metadata bytes, log link and output URI
 * as the Python connector. It speaks the SQL API v2 (submit with `async=true`, poll the statement handle,
 * cancel) with key-pair JWT authentication, binds `%(name)s` parameters server-side, and expands batch
 * inserts as the Python task does. See docs/connectors/snowflake.md.
 */
export class SnowflakeConnector extends AsyncConnector<SnowflakeMeta> {
  readonly name = "Snowflake Connector";
  readonly taskTypeName = "snowflake";
  override readonly metadata = snowflakeMetaCodec;
  private readonly options: SnowflakeConnectorOptions;
  private readonly budget: ApiCallBudget;
  private readonly tokens = new SnowflakeKeyPairTokens();

  constructor(options: SnowflakeConnectorOptions = {}) {
    super();
    this.options = options;
    this.budget = options.callBudget ?? DEFAULT_API_CALL_BUDGET;
  }

  async create(request: CreateRequest, ctx: ConnectorContext): Promise<SnowflakeMeta> {
    const { template } = request;
    const custom = customOf(template);
    const account = requiredCustomString(custom, "account", "Missing Snowflake account. Set it through task configuration.");
    const user = customString(custom, "user");
    const database = customString(custom, "database");
    const warehouse = customString(custom, "warehouse");
    if (!user || !database || !warehouse) throw new InvalidTaskError("User, database and warehouse must be specified in the task configuration.");
    const schema = customString(custom, "schema") ?? "PUBLIC";
    const kwargs = withoutCredentials(customObject(custom, "connection_kwargs") ?? {}, ctx);
    const sql = sqlStatementOf(template);
    const batch = custom["batch"] === true && Object.keys(request.inputs).length > 0;
    const expanded = batch ? expandBatch(sql, request.inputs) : { sql, params: request.inputs };
    const bound = bindPyformat(expanded.sql, expanded.params);

    const role = typeof kwargs["role"] === "string" ? kwargs["role"] : undefined;
    const sessionParameters = customObject(kwargs, "session_parameters");
    const body = {
      statement: bound.statement,
      ...(Object.keys(bound.bindings).length > 0 ? { bindings: bound.bindings } : {}),
      database,
      schema,
      warehouse,
      ...(role ? { role } : {}),
      ...(sessionParameters ? { parameters: sessionParameters } : {}),
    };
    // The same requestId for a repeated CreateTask or a retried submit: Snowflake runs the statement once.
    const url = `${this.baseUrl(account, kwargs)}/api/v2/statements?async=true&requestId=${requestIdOf(request.idempotencyKey)}&retry=true`;
    const headers = await this.headers(account, user, ctx);
    const res = await this.call({ method: "POST", url, headers, body }, ctx, "submit the statement");
    const handle = answerOf(res).statementHandle;
    const hasOutput = Object.keys(request.outputTypes).length > 0;
    // A 422 with a handle is a statement Snowflake accepted and failed (a compilation error): the first
    // GetTask reports it with Snowflake's message. Without a handle nothing exists to poll, and a retry
    // would be refused the same way: the task fails with Snowflake's words.
    if (!handle || (!is2xx(res.status) && res.status !== 422)) {
      const refusal = refusedSubmission(`Snowflake refused the statement: HTTP ${res.status}: ${snowflakeMessage(res)}`, ctx, headers);
      return { account, user, database, schema, warehouse, query_id: "", has_output: hasOutput, connection_kwargs: kwargs, ...refusal };
    }
    ctx.log.info({ queryId: handle, status: res.status }, "Snowflake statement submitted");
    // In the Python dataclass's field order, so the bytes are the ones Python writes.
    return { account, user, database, schema, warehouse, query_id: handle, has_output: hasOutput, connection_kwargs: kwargs };
  }

  async get(meta: SnowflakeMeta, ctx: GetContext): Promise<Resource> {
    const refused = refusedSubmissionResource(meta);
    if (refused) return refused;
    const logLinks = [consoleLink(meta.account, meta.query_id)];
    const customInfo = { query_id: meta.query_id };
    let res: HttpCallResponse;
    try {
      res = await this.call(
        { method: "GET", url: this.statementUrl(meta, ""), headers: await this.headers(meta.account, meta.user, ctx) },
        ctx,
        "read the statement's status",
      );
    } catch (e) {
      if (e instanceof ConnectorError) return { phase: e.retryable ? "RETRYABLE_FAILED" : "FAILED", message: e.message, logLinks, customInfo };
      throw e;
    }
    const answer = answerOf(res);
    switch (res.status) {
      case 200: {
        if (!meta.has_output) return { phase: "SUCCEEDED", message: "SUCCESS", logLinks, customInfo };
        const uri = `snowflake://${meta.user}/${meta.account}/${meta.warehouse}/${meta.database}/${meta.schema}/${meta.query_id}`;
        return { phase: "SUCCEEDED", message: "SUCCESS", logLinks, customInfo, ...datasetResult(uri) };
      }
      // Still queued, resuming its warehouse, blocked or running: the SQL API answers 202 for all of them,
      // so none of the states the Python connector crashes on can reach here as an unknown one.
      case 202:
        return { phase: "RUNNING", message: answer.message ?? "RUNNING", logLinks, customInfo };
      case 422:
        return { phase: answer.sqlState === CANCELLED_SQLSTATE ? "ABORTED" : "FAILED", message: snowflakeMessage(res), logLinks, customInfo };
      case 404:
        return {
          phase: "FAILED",
          message: `Snowflake has no statement ${meta.query_id} in account ${meta.account}: ${snowflakeMessage(res)}`,
          logLinks,
          customInfo,
        };
      default:
        // 408 (the statement ran past its timeout and was cancelled), 401/403 (the key was refused), 400.
        return { phase: "FAILED", message: `HTTP ${res.status}: ${snowflakeMessage(res)}`, logLinks, customInfo };
    }
  }

  async delete(meta: SnowflakeMeta, ctx: ConnectorContext): Promise<void> {
    // A refused statement never existed: nothing to cancel.
    if (meta.failure !== undefined) return;
    let headers: Record<string, string>;
    try {
      headers = await this.headers(meta.account, meta.user, ctx);
    } catch (e) {
      // Without a key nothing can be cancelled, now or on any retry; a failing DeleteTask is retried forever.
      if (e instanceof ConnectorError && !e.retryable) {
        ctx.log.error({ queryId: meta.query_id, problem: e.message }, "cannot cancel the Snowflake statement");
        return;
      }
      throw e;
    }
    // A cancel that cannot get through throws, and the executor retries it: the statement may still run.
    const res = await this.call({ method: "POST", url: this.statementUrl(meta, "/cancel"), headers }, ctx, "cancel the statement");
    // 422: it had already finished; 404: unknown. Either way nothing runs, which is what delete wants.
    if (is2xx(res.status) || res.status === 422 || res.status === 404) {
      ctx.log.info({ queryId: meta.query_id, status: res.status }, "Snowflake statement cancel requested");
      return;
    }
    ctx.log.error({ queryId: meta.query_id, problem: snowflakeMessage(res) }, "Snowflake refused to cancel the statement");
  }

  private baseUrl(account: string, kwargs: JsonObject | null): string {
    if (this.options.baseUrl) return this.options.baseUrl.replace(/\/+$/, "");
    const host = typeof kwargs?.["host"] === "string" ? kwargs["host"] : `${account}.snowflakecomputing.com`;
    const protocol = kwargs?.["protocol"] === "http" ? "http" : "https";
    const port = typeof kwargs?.["port"] === "number" || typeof kwargs?.["port"] === "string" ? `:${kwargs["port"]}` : "";
    return `${protocol}://${host}${port}`;
  }

  private statementUrl(meta: SnowflakeMeta, suffix: string): string {
    return `${this.baseUrl(meta.account, meta.connection_kwargs)}/api/v2/statements/${encodeURIComponent(meta.query_id)}${suffix}`;
  }

  /**
   * The key: the task's secret (the connection), else the service's environment — `SNOWFLAKE_PRIVATE_KEY`
   * (PEM text) or `SNOWFLAKE_PRIVATE_KEY_PATH` (a mounted file), with `SNOWFLAKE_PRIVATE_KEY_PASSPHRASE`.
   */
  private async headers(account: string, user: string, ctx: ConnectorContext): Promise<Record<string, string>> {
    const pem = ctx.secret(KEY_SECRET) ?? (await environmentCredential({ value: "SNOWFLAKE_PRIVATE_KEY", file: "SNOWFLAKE_PRIVATE_KEY_PATH" }));
    if (!pem) {
      throw ConnectorError.permanent(
        `no Snowflake private key: the task's connection has no "${KEY_SECRET}" secret and the service has neither SNOWFLAKE_PRIVATE_KEY nor SNOWFLAKE_PRIVATE_KEY_PATH`,
      );
    }
    const passphrase = ctx.secret(PASSPHRASE_SECRET) ?? (await environmentCredential({ value: "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE" }));
    return {
      authorization: `Bearer ${await this.tokens.token(account, user, pem, passphrase)}`,
      "x-snowflake-authorization-token-type": "KEYPAIR_JWT",
      "user-agent": "flyte-connect",
    };
  }

  private call(call: Omit<ApiCall, "retryOn" | "vendor" | "what">, ctx: ConnectorContext, what: string): Promise<HttpCallResponse> {
    // 408 is Snowflake's "the statement timed out and was cancelled", an answer, not a transient failure.
    return apiCall({ ...call, vendor: "Snowflake", what, retryOn: (status) => status === 429 || status >= 500 }, ctx.signal, this.budget);
  }
}
