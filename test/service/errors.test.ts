import { status } from "@grpc/grpc-js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { SleepConnector } from "../../src/connectors/demo/sleep-connector.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { FailingJobConnector, HangingConnector, RecordingConnector, ThrowingConnector } from "../fixtures/core-connectors.js";
import { grpcJsClient, grpcStatusOf, type GrpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, FLOAT, floatLiteral, STRING, stringLiteral } from "../support/tasks.js";

const hanging = new HangingConnector();
const recording = new RecordingConnector();
let svc: RunningService;
let client: GrpcJsClient<typeof AsyncConnectorService>;
const meta = (o: object) => new TextEncoder().encode(JSON.stringify(o));

beforeAll(async () => {
  const registry = createConnectorRegistry([new SleepConnector(), new ThrowingConnector(), hanging, new FailingJobConnector(), recording]);
  svc = await startService({ registry, config: { maxMessageBytes: 1024 * 1024 } });
  client = grpcJsClient(AsyncConnectorService, svc.address);
});
afterAll(async () => {
  client.close();
  await svc.close();
});

describe("errors as the executor sees them (grpc-js)", () => {
  test("an unknown task type is NOT_FOUND with the Python service's message", async () => {
    const create = await grpcStatusOf(client.createTask(createTaskRequest({ type: "bigquery_query_job_task" })));
    expect(create).toEqual({ code: status.NOT_FOUND, details: "Cannot find connector for task type: bigquery_query_job_task." });
    const get = await grpcStatusOf(client.getTask({ taskCategory: { name: "nope", version: 0 }, resourceMeta: meta({}) }));
    expect(get.code).toBe(status.NOT_FOUND);
    const wrongVersion = await grpcStatusOf(client.getTask({ taskCategory: { name: "sleep", version: 3 }, resourceMeta: meta({}) }));
    expect(wrongVersion.code).toBe(status.NOT_FOUND);
  });

  test("a connector exception is INTERNAL in the Python format, with the secret redacted", async () => {
    const create = await grpcStatusOf(client.createTask(createTaskRequest({ type: "throwing", secrets: { password: "hunter2-s3cret" } })));
    expect(create).toEqual({ code: status.INTERNAL, details: "failed to create throwing task with error:\n cannot log in with password [REDACTED]." });
    const get = await grpcStatusOf(client.getTask({ taskCategory: { name: "throwing", version: 0 }, resourceMeta: meta({ job_id: "1" }) }));
    expect(get).toEqual({ code: status.INTERNAL, details: "failed to get throwing task with error:\n the job API fell over." });
    const del = await grpcStatusOf(client.deleteTask({ taskCategory: { name: "throwing", version: 0 }, resourceMeta: meta({ job_id: "1" }) }));
    expect(del).toEqual({ code: status.INTERNAL, details: "failed to delete throwing task with error:\n delete exploded." });
  });

  test("malformed resource metadata is INVALID_ARGUMENT", async () => {
    for (const bad of [new TextEncoder().encode("not json"), meta([1, 2]), meta({ job: 1 }), new Uint8Array([0xff, 0xfe])]) {
      const got = await grpcStatusOf(client.getTask({ taskCategory: { name: "failing_job", version: 0 }, resourceMeta: bad }));
      expect(got.code).toBe(status.INVALID_ARGUMENT);
      expect(got.details).toMatch(/^invalid resource_meta for task type failing_job: /);
    }
    // DeleteTask must not fail forever (the executor retries it without limit): unreadable metadata is OK.
    await expect(client.deleteTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: meta({ seconds: "x" }) })).resolves.toBeDefined();
  });

  test("missing template, task category or a bad input is INVALID_ARGUMENT and creates nothing", async () => {
    expect((await grpcStatusOf(client.createTask({}))).code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcStatusOf(client.getTask({ resourceMeta: meta({}) }))).code).toBe(status.INVALID_ARGUMENT);
    const before = recording.creates.length;
    const bad = await grpcStatusOf(
      client.createTask(createTaskRequest({ type: "recording", inputs: { seconds: { type: FLOAT, literal: stringLiteral("ten") } } })),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toContain("seconds");
    expect(recording.creates.length).toBe(before);
    const sleepBad = await grpcStatusOf(
      client.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(-1) } } })),
    );
    expect(sleepBad).toEqual({ code: status.INVALID_ARGUMENT, details: 'sleep needs an input "seconds" that is a number from 0 to 604800, got number -1' });
  });

  test("a failed job is a FAILED or RETRYABLE_FAILED phase with its message, not an RPC error", async () => {
    const get = (job_id: string, secrets: Record<string, string> = {}) =>
      client.getTask({ taskCategory: { name: "failing_job", version: 0 }, resourceMeta: meta({ job_id }), connection: { secrets } });
    const phase = await get("phase");
    expect([phase.resource?.phase, phase.resource?.message]).toEqual([TaskExecution_Phase.FAILED, "query failed: division by zero"]);
    const retryable = await get("retryable");
    expect([retryable.resource?.phase, retryable.resource?.message]).toEqual([TaskExecution_Phase.RETRYABLE_FAILED, "warehouse is busy, try again"]);
    const permanent = await get("permanent", { token: "tok-abc-123" });
    expect([permanent.resource?.phase, permanent.resource?.message]).toEqual([TaskExecution_Phase.FAILED, "table missing (token [REDACTED])"]);
  });

  test("outputs over the executor's 4 MiB receive limit fail the job with a message that says what to do", async () => {
    const got = await client.getTask({ taskCategory: { name: "failing_job", version: 0 }, resourceMeta: meta({ job_id: "huge" }) });
    expect(got.resource?.phase).toBe(TaskExecution_Phase.FAILED);
    expect(got.resource?.message).toMatch(/^the task's outputs are 5\.0 MiB, over the 4\.0 MiB the executor accepts/);
  });

  test("a connector returning an unknown phase is INTERNAL, never UNDEFINED", async () => {
    const got = await grpcStatusOf(client.getTask({ taskCategory: { name: "failing_job", version: 0 }, resourceMeta: meta({ job_id: "bad-phase" }) }));
    expect(got.code).toBe(status.INTERNAL);
    expect(got.details).toContain('unknown phase "DONE"');
  });

  test("logs and metrics a connector does not provide are UNIMPLEMENTED", async () => {
    const logs = client.getTaskLogs({ taskCategory: { name: "failing_job", version: 0 }, resourceMeta: meta({ job_id: "1" }) });
    const logStatus = await grpcStatusOf(async () => {
      for await (const _ of logs) void _;
    });
    expect(logStatus.code).toBe(status.UNIMPLEMENTED);
    const metrics = await grpcStatusOf(
      client.getTaskMetrics({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: meta({ seconds: 1, started_at_ms: 0 }) }),
    );
    expect(metrics).toEqual({ code: status.UNIMPLEMENTED, details: "connector Sleep Connector does not provide metrics" });
  });

  test("a request over the size limit is RESOURCE_EXHAUSTED", async () => {
    const big = createTaskRequest({ type: "recording", inputs: { s: { type: STRING, literal: stringLiteral("y".repeat(2 * 1024 * 1024)) } } });
    const got = await grpcStatusOf(client.createTask(big));
    expect(got.code).toBe(status.RESOURCE_EXHAUSTED);
    // The service keeps answering on the same channel.
    expect((await client.getTask({ taskCategory: { name: "failing_job", version: 0 }, resourceMeta: meta({ job_id: "x" }) })).resource?.phase).toBe(
      TaskExecution_Phase.FAILED,
    );
  });

  test("a deadline that expires inside a slow connector aborts the connector's signal", async () => {
    const got = await grpcStatusOf(client.createTask(createTaskRequest({ type: "hanging" }), { timeoutMs: 300 }));
    expect(got.code).toBe(status.DEADLINE_EXCEEDED);
    for (let i = 0; i < 50 && hanging.aborts.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(hanging.aborts).toHaveLength(1);
    // The server's own deadline and the client's cancel at its deadline race; either way the connector is told.
    expect(String(hanging.aborts[0])).toMatch(/deadline|cancel/i);
  });
});

describe("what create receives", () => {
  test("inputs by name, secrets and configs, and a stable idempotency key per attempt", async () => {
    const spec = {
      type: "recording",
      inputs: { a: { type: STRING, literal: stringLiteral("x") }, b: { type: FLOAT, literal: floatLiteral(2.5) } },
      secrets: { token: "t0ken-value" },
      configs: { region: "eu" },
    } as const;
    await client.createTask(createTaskRequest(spec));
    await client.createTask(createTaskRequest(spec));
    await client.createTask(createTaskRequest({ ...spec, retryAttempt: 1 }));
    const [first, again, retry] = recording.creates.slice(-3);
    expect(first!.request.inputs).toEqual({ a: "x", b: 2.5 });
    expect(first!.secrets).toEqual({ token: "t0ken-value" });
    expect(first!.configs).toEqual({ region: "eu" });
    expect(first!.request.outputPrefix).toBe("s3://bucket/ab/run-1/a0/0");
    expect(first!.request.template.type).toBe("recording");
    expect(first!.request.idempotencyKey).toMatch(/^[0-9a-f]{32}$/);
    expect(again!.request.idempotencyKey).toBe(first!.request.idempotencyKey);
    expect(retry!.request.idempotencyKey).not.toBe(first!.request.idempotencyKey);
  });
});
