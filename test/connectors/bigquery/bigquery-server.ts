import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { startVendorServer, verifyRs256Jwt, type RecordedRequest, type Reply, type VendorServer } from "../../helpers/vendor-server.js";

/**
 * A local BigQuery that speaks the REST API v2 as Google's reference documents it — jobs.insert
 * (`POST /bigquery/v2/projects/{projectId}/jobs`), jobs.get (`GET …/jobs/{jobId}?location=`), jobs.cancel
 * (`POST …/jobs/{jobId}/cancel`) — and, on the same port, the GCE/GKE metadata server's token endpoint, the
 * source of Application Default Credentials on Google's compute (what `GCE_METADATA_HOST` points at).
 *
 * It checks what BigQuery checks: a Bearer token (a self-signed service-account JWT, verified with the
 * key's public half, or an access token it issued as the metadata server), the job reference, the query,
 * and every query parameter's type and value form. Jobs play PENDING → RUNNING → DONE, one state per
 * jobs.get (so tests see every state however slow the machine); the query text picks
 * a failure: `FAIL_QUERY` ends DONE with an `errorResult` (BigQuery's invalidQuery body), `WARN` reports
 * non-fatal `errors` on a job that still succeeds, `RUN_LONG` keeps running until cancelled.
 */
export interface BigQueryServer extends VendorServer {
  readonly serviceAccount: { readonly json: string; readonly email: string };
  readonly jobs: ReadonlyMap<string, BigQueryJob>;
  /** Access tokens the metadata server handed out. */
  readonly issuedTokens: readonly string[];
  /** A job inserted by another client (the Python connector), as jobs.insert would record it. */
  seedJob(projectId: string, jobId: string, location: string, query: string): void;
}

export interface BigQueryJob {
  readonly projectId: string;
  readonly jobId: string;
  readonly location: string;
  readonly query: Record<string, unknown>;
  readonly insertedAt: number;
  cancelled: boolean;
  /** jobs.get calls answered so far: the job's clock. */
  polls: number;
  readonly userAgent: string;
}

const SCALAR_TYPES = new Set([
  "BOOL",
  "INT64",
  "FLOAT64",
  "NUMERIC",
  "BIGNUMERIC",
  "STRING",
  "BYTES",
  "DATE",
  "DATETIME",
  "TIME",
  "TIMESTAMP",
  "JSON",
  "INTERVAL",
]);
const AUDIENCE = "https://bigquery.googleapis.com/";

function googleError(code: number, status: string, reason: string, message: string): Reply {
  return { status: code, body: { error: { code, message, errors: [{ message, domain: "global", reason }], status } } };
}

function checkParameterType(t: unknown, where: string): string | undefined {
  const type = t as { type?: unknown; arrayType?: unknown } | undefined;
  if (typeof type?.type !== "string") return `${where}.type is required`;
  if (type.type === "ARRAY")
    return type.arrayType === undefined ? `${where}.arrayType is required for ARRAY` : checkParameterType(type.arrayType, `${where}.arrayType`);
  return SCALAR_TYPES.has(type.type) ? undefined : `${where}.type ${type.type} is not a BigQuery type`;
}

function checkParameterValue(v: unknown, t: { type: string; arrayType?: { type: string } }, where: string): string | undefined {
  const value = v as { value?: unknown; arrayValues?: unknown } | undefined;
  if (value === undefined || typeof value !== "object") return `${where} is required`;
  if (t.type === "ARRAY") {
    if (!Array.isArray(value.arrayValues)) return `${where}.arrayValues must be a list`;
    for (const [i, e] of value.arrayValues.entries()) {
      const problem = checkParameterValue(e, t.arrayType!, `${where}.arrayValues[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (value.value === undefined) return undefined; // NULL
  // QueryParameterValue.value is a string in the REST reference, whatever the type.
  if (typeof value.value !== "string") return `${where}.value must be a string`;
  const s = value.value;
  const ok: Record<string, RegExp> = {
    BOOL: /^(true|false)$/i,
    INT64: /^-?\d+$/,
    FLOAT64: /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|NaN|-?Infinity)$/,
    DATETIME: /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/,
  };
  if (ok[t.type] && !ok[t.type]!.test(s)) return `Invalid ${t.type} value: ${s} at ${where}`;
  return undefined;
}

export async function startBigQueryServer(): Promise<BigQueryServer> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyId = randomBytes(20).toString("hex");
  const email = "flyte-bq@test-project.iam.gserviceaccount.com";
  const json = JSON.stringify({
    type: "service_account",
    project_id: "test-project",
    private_key_id: keyId,
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
    client_email: email,
    client_id: "1234567890",
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: "https://oauth2.googleapis.com/token",
  });
  const saPublicKey: KeyObject = createPublicKey(publicKey.export({ type: "spki", format: "pem" }));
  const jobs = new Map<string, BigQueryJob>();
  const issuedTokens: string[] = [];

  const authenticate = async (req: RecordedRequest): Promise<Reply | undefined> => {
    const auth = req.headers.authorization ?? "";
    const m = /^Bearer (.+)$/.exec(auth);
    const unauthenticated = (why: string) =>
      googleError(
        401,
        "UNAUTHENTICATED",
        "authError",
        `Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. (${why})`,
      );
    if (!m) return unauthenticated("no Bearer token");
    if (issuedTokens.includes(m[1]!)) return undefined;
    const verified = await verifyRs256Jwt(m[1]!, saPublicKey);
    if ("refused" in verified) return unauthenticated(verified.refused);
    const { claims } = verified;
    if (claims["iss"] !== email || claims["sub"] !== email) return unauthenticated("JWT iss/sub is not the service account");
    if (claims["aud"] !== AUDIENCE) return unauthenticated(`JWT aud is ${String(claims["aud"])}`);
    return undefined;
  };

  const jobResource = (job: BigQueryJob) => {
    const text = String(job.query["query"]);
    const destination = (job.query["destinationTable"] as Record<string, string> | undefined) ?? {
      projectId: job.projectId,
      datasetId: "_a1b2c3anon",
      tableId: `anon_${job.jobId}`,
    };
    let status: Record<string, unknown>;
    if (job.cancelled) status = { state: "DONE", errorResult: { reason: "stopped", message: "Job execution was cancelled: User requested cancellation" } };
    else if (job.polls <= 1) status = { state: "PENDING" };
    else if (job.polls === 2 || text.includes("RUN_LONG"))
      status = { state: "RUNNING", ...(text.includes("WARN") ? { errors: [{ reason: "invalid", message: "a non-fatal warning" }] } : {}) };
    else if (text.includes("FAIL_QUERY")) {
      const error = { reason: "invalidQuery", location: "query", message: "Unrecognized name: nope at [1:8]" };
      status = { state: "DONE", errorResult: error, errors: [error] };
    } else status = { state: "DONE", ...(text.includes("WARN") ? { errors: [{ reason: "invalid", message: "a non-fatal warning" }] } : {}) };
    const done = status["state"] === "DONE" && !status["errorResult"];
    return {
      kind: "bigquery#job",
      id: `${job.projectId}:${job.location}.${job.jobId}`,
      jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
      configuration: { jobType: "QUERY", query: { ...job.query, ...(done ? { destinationTable: destination } : {}) } },
      status,
    };
  };

  const server = await startVendorServer(async (req) => {
    if (req.path.startsWith("/computeMetadata/v1/")) {
      if (req.headers["metadata-flavor"] !== "Google") return { status: 403, body: "Missing Metadata-Flavor:Google header." };
      if (req.path === "/computeMetadata/v1/instance/service-accounts/default/token") {
        const token = `ya29.local-${randomBytes(24).toString("hex")}`;
        issuedTokens.push(token);
        return { status: 200, body: { access_token: token, expires_in: 3599, token_type: "Bearer" }, headers: { "metadata-flavor": "Google" } };
      }
      return { status: 200, body: "", headers: { "metadata-flavor": "Google", "content-type": "application/text" } };
    }
    const m = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs(?:\/([^/]+)(\/cancel)?)?$/.exec(req.path);
    if (!m) return googleError(404, "NOT_FOUND", "notFound", `Not found: ${req.path}`);
    const refused = await authenticate(req);
    if (refused) return refused;
    const projectId = decodeURIComponent(m[1]!);
    if (req.method === "POST" && !m[2]) {
      let body: { jobReference?: Record<string, unknown>; configuration?: { query?: Record<string, unknown> } };
      try {
        body = JSON.parse(req.body) as typeof body;
      } catch {
        return googleError(400, "INVALID_ARGUMENT", "parseError", "Parse Error");
      }
      const ref = body.jobReference ?? {};
      if (ref["projectId"] !== undefined && ref["projectId"] !== projectId)
        return googleError(400, "INVALID_ARGUMENT", "invalid", "Project in jobReference does not match the request");
      const query = body.configuration?.query;
      if (!query || typeof query["query"] !== "string" || query["query"] === "")
        return googleError(
          400,
          "INVALID_ARGUMENT",
          "invalid",
          "Job configuration must contain exactly one job-specific configuration object (e.g., query, load, extract, copy).",
        );
      const params = query["queryParameters"];
      if (params !== undefined) {
        if (query["useLegacySql"] !== false)
          return googleError(400, "INVALID_ARGUMENT", "invalidQuery", "Query parameters cannot be used in legacy SQL queries.");
        if (!Array.isArray(params)) return googleError(400, "INVALID_ARGUMENT", "invalid", "queryParameters must be a list");
        for (const [i, p] of (params as Record<string, unknown>[]).entries()) {
          if (query["parameterMode"] === "NAMED" && typeof p["name"] !== "string")
            return googleError(400, "INVALID_ARGUMENT", "invalid", `Named query parameter ${i} has no name`);
          const problem =
            checkParameterType(p["parameterType"], `queryParameters[${i}].parameterType`) ??
            checkParameterValue(p["parameterValue"], p["parameterType"] as { type: string }, `queryParameters[${i}].parameterValue`);
          if (problem) return googleError(400, "INVALID_ARGUMENT", "invalidQuery", problem);
        }
      }
      const jobId = typeof ref["jobId"] === "string" ? ref["jobId"] : `job_${randomBytes(12).toString("hex")}`;
      if (!/^[A-Za-z0-9_-]{1,1024}$/.test(jobId)) return googleError(400, "INVALID_ARGUMENT", "invalid", `Invalid job ID "${jobId}"`);
      const location = typeof ref["location"] === "string" ? ref["location"] : "US";
      if (jobs.has(`${projectId}/${jobId}`)) return googleError(409, "ALREADY_EXISTS", "duplicate", `Already Exists: Job ${projectId}:${location}.${jobId}`);
      const job: BigQueryJob = {
        projectId,
        jobId,
        location,
        query,
        insertedAt: Date.now(),
        cancelled: false,
        polls: 0,
        userAgent: String(req.headers["user-agent"] ?? ""),
      };
      jobs.set(`${projectId}/${jobId}`, job);
      return { status: 200, body: jobResource(job) };
    }
    const job = jobs.get(`${projectId}/${decodeURIComponent(m[2] ?? "")}`);
    const location = req.query.get("location");
    if (!job || (location !== null && location !== job.location))
      return googleError(404, "NOT_FOUND", "notFound", `Not found: Job ${projectId}:${location ?? "US"}.${m[2]}`);
    if (req.method === "GET" && !m[3]) {
      job.polls++;
      return { status: 200, body: jobResource(job) };
    }
    if (req.method === "POST" && m[3]) {
      const state = (jobResource(job).status as { state: string }).state;
      if (state !== "DONE") job.cancelled = true;
      return { status: 200, body: { kind: "bigquery#jobCancelResponse", job: jobResource(job) } };
    }
    return googleError(405, "METHOD_NOT_ALLOWED", "notAllowed", "Method not allowed");
  });
  const seedJob = (projectId: string, jobId: string, location: string, query: string) => {
    jobs.set(`${projectId}/${jobId}`, {
      projectId,
      jobId,
      location,
      query: { query, useLegacySql: false },
      insertedAt: Date.now(),
      cancelled: false,
      polls: 0,
      userAgent: "python",
    });
  };
  return Object.assign(server, { serviceAccount: { json, email }, jobs, issuedTokens, seedJob });
}
