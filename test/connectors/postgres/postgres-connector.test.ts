import { PassThrough } from "node:stream";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CreateTaskRequest } from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import type { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { type LiteralTypeSchema, SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import * as grpc from "@grpc/grpc-js";
import { PostgresConnector } from "../../../src/connectors/postgres/postgres-connector.js";
import { createLogger } from "../../../src/log/logger.js";
import { createConnectorRegistry } from "../../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";
import { grpcJsClient, grpcStatusOf, type GrpcJsClient } from "../../helpers/grpc-js-client.js";
import { startPostgres, type PostgresServer } from "../../helpers/postgres.js";
import { startServe } from "../../support/cli.js";
import { pollTask, valuesFromOutputs } from "../../support/task-polling.js";
import { createTaskRequest, FLOAT, INTEGER, STRING, floatLiteral, stringLiteral } from "../../support/tasks.js";

type LiteralTypeInit = MessageInitShape<typeof LiteralTypeSchema>;

const CATEGORY = { name: "postgres", version: 0 };
const PERSON: LiteralTypeInit = {
  type: { case: "simple", value: SimpleType.STRUCT },
  metadata: {
    type: "object",
    title: "Person",
    properties: { id: { type: "integer" }, name: { type: "string" }, score: { type: "number" } },
    required: ["id", "name", "score"],
    additionalProperties: false,
  },
  annotation: { annotations: { "cache-key-metadata": { "serialization-format": "msgpack" } } },
  structure: { tag: "Object-Dataclass-Transformer" },
};
const listOf = (t: LiteralTypeInit): LiteralTypeInit => ({ type: { case: "collectionType", value: t } });
const DATAFRAME: LiteralTypeInit = { type: { case: "structuredDatasetType", value: {} } };

let db: PostgresServer;
let connectorA: PostgresConnector;
let connectorB: PostgresConnector;
let serviceA: RunningService;
let serviceB: RunningService;
let clientA: GrpcJsClient<typeof AsyncConnectorService>;
let clientB: GrpcJsClient<typeof AsyncConnectorService>;
const logLines = new PassThrough();
let logText = "";
logLines.on("data", (d: Buffer) => (logText += d.toString()));

beforeAll(async () => {
  db = await startPostgres();
  await db.query("CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, score float8 NOT NULL)");
  await db.query("INSERT INTO people VALUES (1, 'Ada', 3.5), (2, 'Brian', 1.0), (3, 'Chandra', 2.25), (4, 'O''Brien', 9.0)");
  connectorA = new PostgresConnector();
  connectorB = new PostgresConnector();
  // Two instances of the service: replicas behind one executor endpoint.
  serviceA = await startService({ registry: createConnectorRegistry([connectorA]), log: createLogger({ level: "debug", destination: logLines }) });
  serviceB = await startService({ registry: createConnectorRegistry([connectorB]), log: createLogger({ level: "debug", destination: logLines }) });
  clientA = grpcJsClient(AsyncConnectorService, serviceA.address);
  clientB = grpcJsClient(AsyncConnectorService, serviceB.address);
});

afterAll(async () => {
  clientA?.close();
  clientB?.close();
  await serviceA?.close();
  await serviceB?.close();
  await connectorA?.close();
  await connectorB?.close();
  await db?.stop();
});

let runs = 0;
/** A CreateTaskRequest for a query; each call is a new task execution, so a new idempotency key. */
function queryTask(spec: {
  query: string;
  inputs?: Record<string, { type: LiteralTypeInit; literal?: MessageInitShape<typeof LiteralSchema> }>;
  outputs?: Record<string, LiteralTypeInit>;
  custom?: Record<string, unknown>;
  connection?: { configs: Record<string, string>; secrets: Record<string, string> };
}): CreateTaskRequest {
  const { configs, secrets } = spec.connection ?? db.connection();
  const request = createTaskRequest({
    type: "postgres",
    inputs: spec.inputs,
    outputs: spec.outputs,
    custom: { query: spec.query, configs, secrets: { password: "pg-password" }, ...spec.custom },
    configs,
    secrets,
  });
  request.taskExecutionMetadata!.taskExecutionId!.nodeExecutionId!.executionId!.name = `run-${process.pid}-${++runs}`;
  return request;
}

/** Backends of the test database that run a query for a job (application_name "flyte-connect fc…"). */
async function jobBackends(): Promise<{ pid: number; query: string; state: string }[]> {
  const r = await db.adminQuery<{ pid: number; query: string; state: string }>(
    "SELECT pid, query, state FROM pg_stat_activity WHERE application_name LIKE 'flyte-connect fc%'",
  );
  return r.rows;
}

async function eventually<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never happened: ${what}`);
}

describe("PostgreSQL connector through the service, with grpc-js as the executor", () => {
  test("a query with inputs bound as parameters succeeds with outputs typed by the interface", async () => {
    const request = queryTask({
      query: "SELECT id, name, score, score AS best FROM people WHERE name <> %(exclude)s AND score >= %(min_score)s ORDER BY id",
      inputs: {
        // A value that would break the statement if it were pasted into the SQL text.
        exclude: { type: STRING, literal: stringLiteral("Brian'; DROP TABLE people; --") },
        min_score: { type: FLOAT, literal: floatLiteral(2) },
      },
      outputs: { people: listOf(PERSON), ids: listOf(INTEGER), name: STRING, count: INTEGER, best: FLOAT },
      custom: { outputs: { count: "row_count" } },
    });
    const created = await clientA.createTask(request, { timeoutMs: 10_000 });
    const { resource } = await pollTask(clientA, created.resourceMeta, { category: CATEGORY, connection: db.connection() });
    expect(resource.message).toMatch(/^query succeeded in [\d.]+ s: 3 rows$/);
    expect(valuesFromOutputs(resource.outputs, { people: listOf(PERSON), ids: listOf(INTEGER), name: STRING, count: INTEGER, best: FLOAT })).toEqual({
      people: [
        { id: 1, name: "Ada", score: 3.5 },
        { id: 3, name: "Chandra", score: 2.25 },
        { id: 4, name: "O'Brien", score: 9 },
      ],
      ids: [1n, 3n, 4n],
      name: "Ada",
      count: 3n,
      best: 3.5,
    });
    // The value was data, never SQL.
    expect((await db.query("SELECT count(*)::int AS n FROM people")).rows[0]).toEqual({ n: 4 });
    // Metadata is small, Python-style JSON, and holds no connection values.
    const metaText = new TextDecoder().decode(created.resourceMeta);
    expect(metaText).toMatch(/^\{"job_id": "fc[0-9a-f]{24}", "schema": "public", /);
    expect(metaText).not.toContain(db.password);
    expect(metaText).not.toContain("127.0.0.1");
    await clientA.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: created.resourceMeta });
  });

  test("a syntax error fails the task with PostgreSQL's message", async () => {
    const created = await clientA.createTask(queryTask({ query: "SELECT id FROM people WHERE", outputs: { ids: listOf(INTEGER) } }));
    const { resource, phases } = await pollTask(clientA, created.resourceMeta, { category: CATEGORY, connection: db.connection() });
    expect(phases.at(-1)).toBe("FAILED");
    expect(resource.message).toBe("query failed: syntax error at end of input (SQLSTATE 42601)");
    const missing = await clientA.createTask(queryTask({ query: "SELECT nope FROM missing_table" }));
    const second = await pollTask(clientA, missing.resourceMeta, { category: CATEGORY, connection: db.connection() });
    expect(second.phases.at(-1)).toBe("FAILED");
    expect(second.resource.message).toBe('query failed: relation "missing_table" does not exist (SQLSTATE 42P01)');
  });

  test("DeleteTask cancels a running query, and is idempotent", async () => {
    const created = await clientA.createTask(queryTask({ query: "SELECT pg_sleep(60)" }));
    const first = await pollTask(clientA, created.resourceMeta, { category: CATEGORY, connection: db.connection(), maxPolls: 1, until: () => true });
    expect(first.phases).toEqual(["RUNNING"]);
    expect((await jobBackends()).some((b) => b.query.includes("pg_sleep(60)") && b.state === "active")).toBe(true);

    await clientA.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: created.resourceMeta }, { timeoutMs: 10_000 });
    await eventually(async () => ((await jobBackends()).length === 0 ? true : undefined), "the query's backend ended");
    const after = await pollTask(clientA, created.resourceMeta, { category: CATEGORY, connection: db.connection() });
    expect(after.phases).toEqual(["ABORTED"]);
    expect(after.resource.message).toBe("query cancelled by DeleteTask");
    // Again (abort, then the garbage collector an hour later), and once more after the record is gone.
    await clientA.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: created.resourceMeta });
    await clientA.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: created.resourceMeta });
  });

  test("a query started through one instance is polled and deleted through another", async () => {
    const slow = await clientA.createTask(queryTask({ query: "SELECT 42 AS answer FROM pg_sleep(1)", outputs: { answer: INTEGER } }));
    const polled = await pollTask(clientB, slow.resourceMeta, { category: CATEGORY, connection: db.connection() });
    expect(polled.phases).toEqual(["RUNNING", "SUCCEEDED"]);
    expect(valuesFromOutputs(polled.resource.outputs, { answer: INTEGER })).toEqual({ answer: 42n });
    await clientB.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: slow.resourceMeta });
    // The record and the result table are gone: nothing of a delivered job lingers.
    expect(
      (await db.query("SELECT count(*)::int AS n FROM flyte_connect_jobs WHERE job_id = $1", [JSON.parse(new TextDecoder().decode(slow.resourceMeta)).job_id]))
        .rows[0],
    ).toEqual({ n: 0 });

    const long = await clientA.createTask(queryTask({ query: "SELECT pg_sleep(60)" }));
    expect((await pollTask(clientB, long.resourceMeta, { category: CATEGORY, connection: db.connection(), maxPolls: 1, until: () => true })).phases).toEqual([
      "RUNNING",
    ]);
    await clientB.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: long.resourceMeta });
    await eventually(async () => ((await jobBackends()).length === 0 ? true : undefined), "the query's backend ended");
    expect((await pollTask(clientA, long.resourceMeta, { category: CATEGORY, connection: db.connection() })).phases).toEqual(["ABORTED"]);
  });

  test("CreateTask repeated for one attempt starts the query once", async () => {
    const request = queryTask({ query: "SELECT 7 AS n FROM pg_sleep(0.5)", outputs: { n: INTEGER } });
    const first = await clientA.createTask(request);
    const second = await clientB.createTask(request);
    expect(second.resourceMeta).toEqual(first.resourceMeta);
    const { resource } = await pollTask(clientA, first.resourceMeta, { category: CATEGORY, connection: db.connection() });
    expect(valuesFromOutputs(resource.outputs, { n: INTEGER })).toEqual({ n: 7n });
    const jobId = JSON.parse(new TextDecoder().decode(first.resourceMeta)).job_id as string;
    expect((await db.query("SELECT runs FROM flyte_connect_jobs WHERE job_id = $1", [jobId])).rows).toEqual([{ runs: 1 }]);
    // And once more after it finished: the recorded outcome stands, nothing runs again.
    await clientA.createTask(request);
    expect((await db.query("SELECT runs, state FROM flyte_connect_jobs WHERE job_id = $1", [jobId])).rows).toEqual([{ runs: 1, state: "SUCCEEDED" }]);
    await clientA.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: first.resourceMeta });
  });

  test("a session is reused for the next query, without the last job's lock or name", async () => {
    for (const n of [1, 2, 3]) {
      const created = await clientA.createTask(queryTask({ query: `SELECT ${n} AS n`, outputs: { n: INTEGER } }));
      const { resource } = await pollTask(clientA, created.resourceMeta, { category: CATEGORY, connection: db.connection() });
      expect(valuesFromOutputs(resource.outputs, { n: INTEGER })).toEqual({ n: BigInt(n) });
    }
    const idle = await db.adminQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'flyte-connect idle'");
    expect(idle.rowCount).toBeGreaterThan(0);
    const locks = await db.adminQuery("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = ANY($1::int[])", [idle.rows.map((r) => r.pid)]);
    expect(locks.rowCount).toBe(0);
  });

  test("the instance running a query is killed mid-query: another reports RETRYABLE_FAILED, not RUNNING forever", async () => {
    const replica = await startServe(["--no-builtins", "--modules", "./test/connectors/postgres/fixtures/postgres-connectors.ts", "--no-metrics"]);
    const doomed = grpcJsClient(AsyncConnectorService, replica.address);
    try {
      const created = await doomed.createTask(queryTask({ query: "SELECT 1 AS one FROM pg_sleep(60)", outputs: { one: INTEGER } }), { timeoutMs: 20_000 });
      expect(
        (await pollTask(clientB, created.resourceMeta, { category: CATEGORY, connection: db.connection(), maxPolls: 1, until: () => true })).phases,
      ).toEqual(["RUNNING"]);
      await replica.kill("SIGKILL");
      const { resource, phases } = await pollTask(clientB, created.resourceMeta, { category: CATEGORY, connection: db.connection() });
      expect(phases.at(-1)).toBe("RETRYABLE_FAILED");
      expect(phases.filter((p) => p !== "RUNNING" && p !== "RETRYABLE_FAILED")).toEqual([]);
      expect(resource.message).toContain("the PostgreSQL session running the query ended before the query finished");
      // PostgreSQL noticed the dead client and stopped the query: nothing keeps running for nobody.
      await eventually(async () => ((await jobBackends()).length === 0 ? true : undefined), "the orphaned query ended");
      // The executor's retry deletes the failed attempt: OK.
      await clientB.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: created.resourceMeta });
    } finally {
      doomed.close();
      await replica.kill("SIGKILL");
    }
  }, 60_000);

  test("a result too large to return inline goes to a result table that the outputs name", async () => {
    const query = "SELECT g AS n, md5(g::text) AS h FROM generate_series(1, 5000) g";
    const created = await clientA.createTask(
      queryTask({ query, outputs: { table: STRING, results: DATAFRAME, count: INTEGER }, custom: { outputs: { table: "table", count: "row_count" } } }),
    );
    const { resource } = await pollTask(clientA, created.resourceMeta, { category: CATEGORY, connection: db.connection() });
    const values = valuesFromOutputs(resource.outputs, { table: STRING, results: DATAFRAME, count: INTEGER });
    const table = values["table"] as string;
    expect(table).toMatch(/^public\.flyte_result_[0-9a-f]{24}$/);
    expect(values["count"]).toBe(5000n);
    expect(values["results"]).toMatchObject({ uri: `postgresql://127.0.0.1:${db.port}/flyte/${table}` });
    expect((await db.query(`SELECT count(*)::int AS n, max(n) AS top FROM ${table}`)).rows[0]).toEqual({ n: 5000, top: 5000 });
    // The result table is the task's output: the garbage collector's DeleteTask keeps it.
    await clientA.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: created.resourceMeta });
    expect((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 5000 });

    const inline = await clientA.createTask(queryTask({ query, outputs: { ns: listOf(INTEGER) }, custom: { max_inline_rows: 100 } }));
    const failed = await pollTask(clientA, inline.resourceMeta, { category: CATEGORY, connection: db.connection() });
    expect(failed.phases.at(-1)).toBe("FAILED");
    expect(failed.resource.message).toContain('the query returned 5000 rows, more than max_inline_rows (100) allows for output "ns"');
    await clientA.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: inline.resourceMeta });
  });

  test("connection problems: missing settings are refused, a wrong password fails, an unreachable server is retryable", async () => {
    const { configs, secrets } = db.connection();
    const noHost = await grpcStatusOf(clientA.createTask(queryTask({ query: "SELECT 1", connection: { configs: { ...configs, host: "" }, secrets } })));
    expect(noHost.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noHost.details).toContain("the task's connection lacks host");

    const wrongPassword = "wrong-password-123";
    const denied = await clientA.createTask(queryTask({ query: "SELECT 1", connection: { configs, secrets: { password: wrongPassword } } }));
    const deniedRun = await pollTask(clientA, denied.resourceMeta, { category: CATEGORY, connection: db.connection() });
    expect(deniedRun.phases).toEqual(["FAILED"]);
    expect(deniedRun.resource.message).toContain('password authentication failed for user "flyte" (SQLSTATE 28P01)');

    const closedPort = await clientA.createTask(queryTask({ query: "SELECT 1", connection: { configs: { ...configs, port: "1" }, secrets } }));
    const unreachable = await pollTask(clientA, closedPort.resourceMeta, { category: CATEGORY, connection: db.connection() });
    expect(unreachable.phases).toEqual(["RETRYABLE_FAILED"]);
    expect(unreachable.resource.message).toMatch(/could not start the query on postgresql:\/\/flyte@127\.0\.0\.1:1\/flyte: .*ECONNREFUSED/);
    await clientA.deleteTask({ taskCategory: CATEGORY, connection: db.connection(), resourceMeta: closedPort.resourceMeta });
  });

  test("passwords never reach the logs", () => {
    expect(logText.length).toBeGreaterThan(0);
    expect(logText).not.toContain(db.password);
    expect(logText).not.toContain("wrong-password-123");
  });
});
