import { startVendorServer, type Reply, type VendorServer } from "../../helpers/vendor-server.js";

/**
 * A local Databricks workspace speaking the Jobs API 2.1 as Databricks' reference documents it:
 * `POST /api/2.1/jobs/runs/submit`, `GET /api/2.1/jobs/runs/get?run_id=`, `POST /api/2.1/jobs/runs/cancel`.
 *
 * It checks what Databricks checks: a Bearer personal access token; a one-time run in the single-task form
 * with exactly one of `existing_cluster_id`/`new_cluster` (with `spark_version` and `node_type_id`), one
 * task (`spark_python_task` with a `python_file` and string `parameters`; `source: GIT` needs a
 * `git_source`); an `idempotency_token` of at most 64 characters, which gives the same run again; and an
 * integer `run_id` on cancel (proto-JSON also takes it as a numeric string, as the Python connector sends).
 * Runs go PENDING → RUNNING → TERMINATED SUCCESS, one state per runs/get (so tests see every state however
 * slow the machine); the `run_name` picks another path: `QUEUED` waits in the
 * queue first, `FAIL` ends TERMINATED FAILED, `INTERNAL` ends INTERNAL_ERROR, `LIMIT` is SKIPPED at the
 * concurrency limit, `RUN_LONG` runs until cancelled; a cancelled run is TERMINATING, then TERMINATED CANCELED.
 */
export interface DatabricksServer extends VendorServer {
  readonly token: string;
  readonly runs: ReadonlyMap<number, Run>;
  /** A run submitted by another client (the Python connector). */
  seedRun(runName: string): number;
}

export interface Run {
  readonly runId: number;
  readonly jobId: number;
  readonly spec: Record<string, unknown>;
  readonly submittedAt: number;
  /** runs/get calls answered so far: the run's clock. */
  polls: number;
  /** The poll count when the run was cancelled. */
  cancelledAt?: number;
}

const error = (status: number, code: string, message: string): Reply => ({ status, body: { error_code: code, message } });

function stateOf(run: Run): Record<string, unknown> {
  const name = String(run.spec["run_name"] ?? "");
  if (run.cancelledAt !== undefined) {
    return run.polls - run.cancelledAt <= 1
      ? { life_cycle_state: "TERMINATING", state_message: "", user_cancelled_or_timedout: true }
      : { life_cycle_state: "TERMINATED", result_state: "CANCELED", state_message: "Run cancelled.", user_cancelled_or_timedout: true };
  }
  const age = run.polls;
  const queued = name.includes("QUEUED") ? 1 : 0;
  if (age <= queued) return { life_cycle_state: "QUEUED", state_message: "Queued due to reaching maximum concurrent runs.", user_cancelled_or_timedout: false };
  if (name.includes("LIMIT"))
    return {
      life_cycle_state: "SKIPPED",
      result_state: "MAXIMUM_CONCURRENT_RUNS_REACHED",
      state_message: "Skipped: maximum concurrent runs reached",
      user_cancelled_or_timedout: false,
    };
  if (age <= queued + 1) return { life_cycle_state: "PENDING", state_message: "Waiting for cluster", user_cancelled_or_timedout: false };
  if (age <= queued + 2 || name.includes("RUN_LONG")) return { life_cycle_state: "RUNNING", state_message: "In run", user_cancelled_or_timedout: false };
  if (name.includes("INTERNAL"))
    return { life_cycle_state: "INTERNAL_ERROR", state_message: "Cluster terminated: cloud provider launch failure", user_cancelled_or_timedout: false };
  if (name.includes("FAIL"))
    return {
      life_cycle_state: "TERMINATED",
      result_state: "FAILED",
      state_message: "Task failed with error: ModuleNotFoundError: No module named 'pandas'",
      user_cancelled_or_timedout: false,
    };
  return { life_cycle_state: "TERMINATED", result_state: "SUCCESS", state_message: "", user_cancelled_or_timedout: false };
}

function checkSubmit(spec: Record<string, unknown>): string | undefined {
  const cluster = spec["new_cluster"] as Record<string, unknown> | undefined;
  if ((spec["existing_cluster_id"] === undefined) === (cluster === undefined)) return "Exactly one of existing_cluster_id or new_cluster must be specified.";
  if (cluster) {
    if (typeof cluster["spark_version"] !== "string") return "Missing required field: new_cluster.spark_version";
    if (typeof cluster["node_type_id"] !== "string" && typeof cluster["instance_pool_id"] !== "string")
      return "Missing required field: new_cluster.node_type_id";
    const image = cluster["docker_image"] as { url?: unknown } | undefined;
    if (image !== undefined && typeof image.url !== "string") return "docker_image.url must be a string";
  }
  const tasks = ["spark_python_task", "notebook_task", "spark_jar_task", "spark_submit_task", "python_wheel_task"].filter((t) => spec[t] !== undefined);
  if (tasks.length !== 1) return "Exactly one task type must be specified.";
  const python = spec["spark_python_task"] as { python_file?: unknown; parameters?: unknown; source?: unknown } | undefined;
  if (python) {
    if (typeof python.python_file !== "string") return "Missing required field: spark_python_task.python_file";
    if (python.parameters !== undefined && (!Array.isArray(python.parameters) || python.parameters.some((p) => typeof p !== "string")))
      return "spark_python_task.parameters must be a list of strings";
    if (python.source === "GIT") {
      const git = spec["git_source"] as Record<string, unknown> | undefined;
      if (!git || typeof git["git_url"] !== "string" || typeof git["git_provider"] !== "string")
        return "git_source with git_url and git_provider is required when source is GIT";
      if (![git["git_commit"], git["git_branch"], git["git_tag"]].some((v) => typeof v === "string"))
        return "git_source needs one of git_commit, git_branch, git_tag";
    }
  }
  const token = spec["idempotency_token"];
  if (token !== undefined && (typeof token !== "string" || token.length > 64)) return "idempotency_token must be a string of at most 64 characters";
  return undefined;
}

const runIdOf = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isInteger(v) ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined;

export async function startDatabricksServer(options: { token?: string } = {}): Promise<DatabricksServer> {
  const token = options.token ?? "dapi0123456789abcdef0123456789abcdef";
  const runs = new Map<number, Run>();
  const byIdempotencyToken = new Map<string, number>();
  let nextRunId = 455644833;
  const server = await startVendorServer((req) => {
    if (req.headers.authorization !== `Bearer ${token}`) return error(401, "401", "Credential was not sent or was of an unsupported type for this API.");
    let body: Record<string, unknown> = {};
    if (req.method === "POST") {
      try {
        body = JSON.parse(req.body) as Record<string, unknown>;
      } catch {
        return error(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a map");
      }
    }
    if (req.method === "POST" && req.path === "/api/2.1/jobs/runs/submit") {
      const problem = checkSubmit(body);
      if (problem) return error(400, "INVALID_PARAMETER_VALUE", problem);
      const idem = body["idempotency_token"] as string | undefined;
      const known = idem === undefined ? undefined : byIdempotencyToken.get(idem);
      if (known !== undefined) return { status: 200, body: { run_id: known } };
      const runId = nextRunId++;
      runs.set(runId, { runId, jobId: 1_000_000 + runId, spec: body, submittedAt: Date.now(), polls: 0 });
      if (idem !== undefined) byIdempotencyToken.set(idem, runId);
      return { status: 200, body: { run_id: runId } };
    }
    if (req.method === "GET" && req.path === "/api/2.1/jobs/runs/get") {
      const runId = runIdOf(req.query.get("run_id"));
      const run = runId === undefined ? undefined : runs.get(runId);
      if (!run) return error(400, "INVALID_PARAMETER_VALUE", `Run ${req.query.get("run_id")} does not exist.`);
      run.polls++;
      return {
        status: 200,
        body: {
          job_id: run.jobId,
          run_id: run.runId,
          run_name: run.spec["run_name"],
          state: stateOf(run),
          run_page_url: `https://example.cloud.databricks.com/?o=1#job/${run.jobId}/run/${run.runId}`,
          run_type: "SUBMIT_RUN",
        },
      };
    }
    if (req.method === "POST" && req.path === "/api/2.1/jobs/runs/cancel") {
      const runId = runIdOf(body["run_id"]);
      if (runId === undefined) return error(400, "INVALID_PARAMETER_VALUE", "Missing required field: run_id");
      const run = runs.get(runId);
      if (!run) return error(400, "INVALID_PARAMETER_VALUE", `Run ${runId} does not exist.`);
      const life = stateOf(run)["life_cycle_state"];
      if (run.cancelledAt === undefined && !["TERMINATED", "SKIPPED", "INTERNAL_ERROR"].includes(String(life))) run.cancelledAt = run.polls;
      return { status: 200, body: {} };
    }
    return error(404, "ENDPOINT_NOT_FOUND", `No API found for '${req.method} ${req.path}'`);
  });
  const seedRun = (runName: string) => {
    const runId = nextRunId++;
    runs.set(runId, { runId, jobId: 1_000_000 + runId, spec: { run_name: runName }, submittedAt: Date.now(), polls: 0 });
    return runId;
  };
  return Object.assign(server, { token, runs, seedRun });
}
