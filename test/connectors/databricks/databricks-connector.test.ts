import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { ContainerSchema } from "#idl/flyteidl2/core/tasks_pb.js";
import * as grpc from "@grpc/grpc-js";
import { DatabricksConnector } from "../../../src/connectors/databricks/databricks-connector.js";
import { grpcStatusOf } from "../../helpers/grpc-js-client.js";
import { createTaskRequest, INTEGER, intLiteral } from "../../support/tasks.js";
import { pollWith, startWarehouseService, type WarehouseService } from "../../helpers/warehouse-service.js";
import { startDatabricksServer, type DatabricksServer } from "./databricks-server.js";

const CATEGORY = { name: "databricks", version: 0 };
const OUTPUT_PREFIX = "s3://flyte-data/ab/run-7/a0/0";
/** The executor renders the container's arguments before CreateTask (`a0 --inputs {{.input}} …`). */
const RENDERED_ARGS = [
  "a0",
  "--inputs",
  "s3://flyte-data/ab/run-7/a0/inputs.pb",
  "--outputs-path",
  OUTPUT_PREFIX,
  "--version",
  "v1",
  "--run-name",
  "run-7",
  "--name",
  "a0",
  "--tgz",
  "s3://flyte-data/code.tgz",
  "--dest",
  ".",
];

let db: DatabricksServer;
let svc: WarehouseService;
let poll: ReturnType<typeof pollWith>;

beforeAll(async () => {
  db = await startDatabricksServer();
  svc = await startWarehouseService(new DatabricksConnector({ baseUrl: db.url, callBudget: { budgetMs: 2000, requestTimeoutMs: 500 } }));
  poll = pollWith(svc, { category: CATEGORY, connection: { configs: {}, secrets: { databricks_token: db.token } } });
});

afterAll(async () => {
  await svc?.close();
  await db?.close();
});

/**
 * A function task in a `Databricks` environment as flyte-sdk serializes it: a container (image, env, the
 * rendered args) and `custom` = MessageToDict(SparkJob) plus the token's secret name.
 */
function databricksTask(
  runName: string,
  options: { databricksConf?: Record<string, unknown>; secrets?: Record<string, string>; custom?: Record<string, unknown> } = {},
) {
  const request = createTaskRequest({
    type: "databricks",
    inputs: { n: { type: INTEGER, literal: intLiteral(3) } },
    outputs: { o0: INTEGER },
    outputPrefix: OUTPUT_PREFIX,
    custom: {
      sparkConf: { "spark.executor.memory": "4g" },
      hadoopConf: {},
      mainApplicationFile: "local:///opt/venv/bin/runtime.py",
      executorPath: "/opt/venv/bin/python",
      databricksConf: options.databricksConf ?? {
        run_name: runName,
        new_cluster: { spark_version: "13.3.x-scala2.12", node_type_id: "i3.xlarge", num_workers: 2 },
      },
      databricksInstance: "myorg.cloud.databricks.com",
      secrets: { databricks_token: "databricks_token_secret" },
      ...options.custom,
    },
    secrets: options.secrets ?? { databricks_token: db.token },
  });
  request.template!.target = {
    case: "container",
    value: create(ContainerSchema, {
      image: "ghcr.io/acme/spark-task:abc123",
      args: RENDERED_ARGS,
      env: [
        { key: "FLYTE_INTERNAL_EXECUTION_ID", value: "run-7" },
        { key: "LOG_LEVEL", value: "20" },
      ],
    }),
  };
  request.taskExecutionMetadata!.taskExecutionId!.nodeExecutionId!.executionId!.name = `run-${Math.random().toString(36).slice(2)}`;
  return request;
}

const deleteTask = (meta: Uint8Array) =>
  svc.client.deleteTask(
    { taskCategory: CATEGORY, resourceMeta: meta, connection: { secrets: { databricks_token: db.token }, configs: {} } },
    { timeoutMs: 10_000 },
  );
const runIdOf = (meta: Uint8Array) => Number((JSON.parse(new TextDecoder().decode(meta)) as { run_id: string }).run_id);

describe("Databricks connector through the service, against a local Jobs API 2.1", () => {
  test("runs/submit from the SparkJob custom with the rendered args; runs/get until TERMINATED SUCCESS; no inline outputs; delete twice", async () => {
    const created = await svc.client.createTask(databricksTask("my_job"), { timeoutMs: 10_000 });
    const runId = runIdOf(created.resourceMeta);
    expect(new TextDecoder().decode(created.resourceMeta)).toBe(`{"databricks_instance": "myorg.cloud.databricks.com", "run_id": "${runId}"}`);
    const { resource, phases } = await poll(created.resourceMeta);
    expect(phases).toEqual(["INITIALIZING", "RUNNING", "SUCCEEDED"]);
    // The run writes outputs.pb under the output prefix itself; the executor reads it from there.
    expect(resource.outputs).toBeUndefined();
    expect(resource.logLinks.map((l) => [l.name, l.uri])).toEqual([
      ["Databricks Console", `https://myorg.cloud.databricks.com/#job/${1_000_000 + runId}/run/${runId}`],
    ]);
    expect(db.runs.get(runId)!.spec).toEqual({
      run_name: "my_job",
      new_cluster: {
        spark_version: "13.3.x-scala2.12",
        node_type_id: "i3.xlarge",
        num_workers: 2,
        docker_image: { url: "ghcr.io/acme/spark-task:abc123" },
        spark_conf: { "spark.executor.memory": "4g" },
        spark_env_vars: { FLYTE_INTERNAL_EXECUTION_ID: "run-7", LOG_LEVEL: "20" },
      },
      spark_python_task: { python_file: "flyteplugins/databricks/entrypoint.py", parameters: RENDERED_ARGS, source: "GIT" },
      git_source: { git_url: "https://github.com/flyteorg/flytetools", git_provider: "gitHub", git_commit: "194364210c47c49ce66c419e8fb68d6f9c06fd7e" },
      idempotency_token: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    await deleteTask(created.resourceMeta);
    await deleteTask(created.resourceMeta);
    expect(db.runs.get(runId)!.cancelledAt).toBeUndefined();
  });

  test("an existing cluster is used as given; a repeated CreateTask submits one run", async () => {
    const request = databricksTask("on_existing", { databricksConf: { run_name: "on_existing", existing_cluster_id: "0923-164208-meows279" } });
    const a = await svc.client.createTask(request);
    const b = await svc.client.createTask(request);
    expect(runIdOf(b.resourceMeta)).toBe(runIdOf(a.resourceMeta));
    const spec = db.runs.get(runIdOf(a.resourceMeta))!.spec;
    expect(spec["existing_cluster_id"]).toBe("0923-164208-meows279");
    expect(spec["new_cluster"]).toBeUndefined();
    expect((await poll(a.resourceMeta)).phases.at(-1)).toBe("SUCCEEDED");
  });

  test("every state maps to a phase: QUEUED, FAILED with Databricks' message, INTERNAL_ERROR retryable, SKIPPED at the concurrency limit", async () => {
    const queued = await poll((await svc.client.createTask(databricksTask("QUEUED then fine"))).resourceMeta);
    expect(queued.phases).toEqual(["QUEUED", "INITIALIZING", "RUNNING", "SUCCEEDED"]);
    const failed = await poll((await svc.client.createTask(databricksTask("FAIL"))).resourceMeta);
    expect(failed.phases.at(-1)).toBe("FAILED");
    expect(failed.resource.message).toBe("TERMINATED FAILED: Task failed with error: ModuleNotFoundError: No module named 'pandas'");
    const internal = await poll((await svc.client.createTask(databricksTask("INTERNAL"))).resourceMeta);
    expect(internal.phases.at(-1)).toBe("RETRYABLE_FAILED");
    expect(internal.resource.message).toBe("INTERNAL_ERROR: Cluster terminated: cloud provider launch failure");
    const limit = await poll((await svc.client.createTask(databricksTask("LIMIT"))).resourceMeta);
    expect(limit.phases).toEqual(["FAILED"]);
    expect(limit.resource.message).toBe("SKIPPED MAXIMUM_CONCURRENT_RUNS_REACHED: Skipped: maximum concurrent runs reached");
  });

  test("DeleteTask cancels a running run (integer run_id); it reads TERMINATING, then ABORTED; again is fine", async () => {
    const created = await svc.client.createTask(databricksTask("RUN_LONG"));
    await poll(created.resourceMeta, (r) => r.phase === TaskExecution_Phase.RUNNING);
    await deleteTask(created.resourceMeta);
    const runId = runIdOf(created.resourceMeta);
    expect(db.runs.get(runId)!.cancelledAt).toBeDefined();
    const cancel = db.requests.find((r) => r.path === "/api/2.1/jobs/runs/cancel" && JSON.parse(r.body).run_id === runId)!;
    expect(JSON.parse(cancel.body)).toEqual({ run_id: runId });
    const { phases, resource } = await poll(created.resourceMeta);
    expect(phases.at(-1)).toBe("ABORTED");
    expect(resource.message).toBe("TERMINATED CANCELED: Run cancelled.");
    await deleteTask(created.resourceMeta);
  });

  test("429 and 503 are retried inside one call, and a hanging answer is given up and retried; down for the whole budget is RETRYABLE_FAILED", async () => {
    const created = await svc.client.createTask(databricksTask("RUN_LONG retry"));
    const before = db.requests.length;
    db.failNext(1, 429, { error_code: "REQUEST_LIMIT_EXCEEDED", message: "Too many requests" });
    db.failNext(1, 503, { error_code: "TEMPORARILY_UNAVAILABLE", message: "The service is temporarily unavailable" });
    db.hangNext(1);
    // One GetTask answered despite all three, with the run's phase (its clock ran during the hang).
    const answered = await poll(created.resourceMeta, () => true);
    expect(answered.phases).toHaveLength(1);
    expect(["INITIALIZING", "RUNNING"]).toContain(answered.phases[0]);
    expect(db.requests.length - before).toBe(4);
    db.failNext(1000, 503, { error_code: "TEMPORARILY_UNAVAILABLE", message: "The service is temporarily unavailable" });
    try {
      const down = await poll(created.resourceMeta);
      expect(down.phases).toEqual(["RETRYABLE_FAILED"]);
      expect(down.resource.message).toMatch(
        /^could not read the run: Databricks at http:\/\/127\.0\.0\.1:\d+\/ is unavailable: GET .* failed \d+ times in [\d.]+ s; last: HTTP 503/,
      );
      expect((await grpcStatusOf(deleteTask(created.resourceMeta))).code).toBe(grpc.status.INTERNAL);
    } finally {
      db.failNext(0, 503);
    }
    await deleteTask(created.resourceMeta);
  });

  test("refusals: a bad run spec is CreateTask OK and a FAILED task with Databricks' message, DeleteTask calls nothing; no databricksConf, no container or no token are named", async () => {
    const refused = await svc.client.createTask(databricksTask("bad", { databricksConf: { run_name: "bad", new_cluster: { num_workers: 1 } } }));
    const stored = JSON.parse(new TextDecoder().decode(refused.resourceMeta)) as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual(["databricks_instance", "run_id", "failure"]);
    const before = db.requests.length;
    const failed = await poll(refused.resourceMeta);
    expect(failed.phases).toEqual(["FAILED"]);
    expect(failed.resource.message).toBe("Databricks refused the run: HTTP 400 INVALID_PARAMETER_VALUE: Missing required field: new_cluster.spark_version");
    await deleteTask(refused.resourceMeta);
    await deleteTask(refused.resourceMeta);
    expect(db.requests.length).toBe(before);
    const bad = { details: failed.resource.message };
    // A refusal that echoes the credential: the stored and reported message has it replaced.
    db.failNext(1, 403, { error_code: "PERMISSION_DENIED", message: `token ${db.token} may not submit runs` }, /runs\/submit$/);
    const echoed = await svc.client.createTask(databricksTask("echo"));
    expect(new TextDecoder().decode(echoed.resourceMeta)).not.toContain(db.token);
    const echoedResult = await poll(echoed.resourceMeta);
    expect(echoedResult.phases).toEqual(["FAILED"]);
    expect(echoedResult.resource.message).toBe("Databricks refused the run: HTTP 403 PERMISSION_DENIED: token [REDACTED] may not submit runs");
    svc.saw(echoedResult.resource.message);
    const noConf = await grpcStatusOf(svc.client.createTask(databricksTask("x", { custom: { databricksConf: null } })));
    expect(noConf.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noConf.details).toContain("Missing Databricks job configuration");
    const noToken = await grpcStatusOf(svc.client.createTask(databricksTask("x", { secrets: {} })));
    expect(noToken.details).toContain("DATABRICKS_TOKEN_FILE");
    const wrongTokenTask = await svc.client.createTask(databricksTask("x", { secrets: { databricks_token: "dapi-wrong" } }));
    const wrongTokenResult = await poll(wrongTokenTask.resourceMeta);
    expect(wrongTokenResult.phases).toEqual(["FAILED"]);
    const wrongToken = { details: wrongTokenResult.resource.message };
    expect(wrongToken.details).toContain("HTTP 401 401: Credential was not sent or was of an unsupported type for this API.");
    expect(wrongToken.details).not.toContain("dapi-wrong");
    const noContainer = databricksTask("x");
    noContainer.template!.target = { case: undefined };
    const c = await grpcStatusOf(svc.client.createTask(noContainer));
    expect(c.code).toBe(grpc.status.INVALID_ARGUMENT);
    for (const s of [bad, noConf, noToken, wrongToken, c]) svc.saw(s.details);
  });

  test("without a token in the connection, the service's DATABRICKS_TOKEN_FILE is read", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "db-token-"));
    const file = path.join(dir, "token");
    writeFileSync(file, `${db.token}\n`, { mode: 0o600 });
    process.env["DATABRICKS_TOKEN_FILE"] = file;
    try {
      const created = await svc.client.createTask(databricksTask("from_file", { secrets: {} }));
      const { phases } = await pollWith(svc, { category: CATEGORY, connection: { configs: {}, secrets: {} } })(created.resourceMeta);
      expect(phases.at(-1)).toBe("SUCCEEDED");
    } finally {
      delete process.env["DATABRICKS_TOKEN_FILE"];
    }
  });

  test("a run the Python connector submitted is polled and cancelled from its metadata", async () => {
    const runId = db.seedRun("RUN_LONG python");
    const pythonMeta = new TextEncoder().encode(`{"databricks_instance": "myorg.cloud.databricks.com", "run_id": "${runId}"}`);
    await poll(pythonMeta, (r) => r.phase === TaskExecution_Phase.RUNNING);
    await deleteTask(pythonMeta);
    await deleteTask(pythonMeta);
    expect(db.runs.get(runId)!.cancelledAt).toBeDefined();
    expect((await poll(pythonMeta)).phases.at(-1)).toBe("ABORTED");
  });

  test("the token never reaches the logs or messages", () => {
    const written = svc.everythingWritten();
    expect(written.length).toBeGreaterThan(1000);
    expect(db.requests.filter((r) => r.headers.authorization === `Bearer ${db.token}`).length).toBeGreaterThan(10);
    expect(written).not.toContain(db.token);
    expect(written).not.toContain("dapi-wrong");
  });
});
