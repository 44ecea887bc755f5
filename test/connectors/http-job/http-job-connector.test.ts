import { PassThrough } from "node:stream";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CreateTaskRequest } from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import type { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { type LiteralTypeSchema, SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import * as grpc from "@grpc/grpc-js";
import { HttpJobConnector } from "../../../src/connectors/http-job/http-job-connector.js";
import { Datetime } from "../../../src/literals/datetime.js";
import { createLogger } from "../../../src/log/logger.js";
import { createConnectorRegistry } from "../../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";
import { grpcJsClient, grpcStatusOf, type GrpcJsClient } from "../../helpers/grpc-js-client.js";
import { startJobServer, type JobServer } from "../../helpers/job-server.js";
import { pollTask, valuesFromOutputs } from "../../support/task-polling.js";
import { createTaskRequest, INTEGER, STRING, intLiteral, stringLiteral } from "../../support/tasks.js";

type LiteralTypeInit = MessageInitShape<typeof LiteralTypeSchema>;
type LiteralInit = MessageInitShape<typeof LiteralSchema>;

const CATEGORY = { name: "http_job", version: 0 };
const DATETIME: LiteralTypeInit = { type: { case: "simple", value: SimpleType.DATETIME } };
const ITEM: LiteralTypeInit = {
  type: { case: "simple", value: SimpleType.STRUCT },
  metadata: {
    type: "object",
    title: "Item",
    properties: { value: { type: "integer" }, square: { type: "integer" } },
    required: ["value", "square"],
    additionalProperties: false,
  },
  annotation: { annotations: { "cache-key-metadata": { "serialization-format": "msgpack" } } },
  structure: { tag: "Object-Dataclass-Transformer" },
};
const listOf = (t: LiteralTypeInit): LiteralTypeInit => ({ type: { case: "collectionType", value: t } });
const intList = (ns: number[]): LiteralInit => ({ value: { case: "collection", value: { literals: ns.map(intLiteral) } } });
const OUTPUTS = { total: INTEGER, items: listOf(ITEM), label: STRING, finished: DATETIME };

let api: JobServer;
let service: RunningService;
let client: GrpcJsClient<typeof AsyncConnectorService>;
const logStream = new PassThrough();
let logText = "";
logStream.on("data", (d: Buffer) => (logText += d.toString()));

beforeAll(async () => {
  api = await startJobServer();
  // A short budget keeps the "API down" cases quick; the default (8 s) fits the executor's 10 s deadline.
  service = await startService({
    registry: createConnectorRegistry([new HttpJobConnector({ callBudgetMs: 1500 })]),
    log: createLogger({ level: "debug", destination: logStream }),
  });
  client = grpcJsClient(AsyncConnectorService, service.address);
});

afterAll(async () => {
  client?.close();
  await service?.close();
  await api?.stop();
});

const connection = () => ({ configs: { base_url: api.url }, secrets: { api_token: api.token } });

/** The Flyte task a Python user would declare: the job API described in `custom`, the token a secret. */
function jobTask(inputs: { numbers: number[]; run_ms?: number; fail_with?: string }, overrides: Record<string, unknown> = {}): CreateTaskRequest {
  const { configs, secrets } = connection();
  const request = createTaskRequest({
    type: "http_job",
    inputs: {
      numbers: { type: listOf(INTEGER), literal: intList(inputs.numbers) },
      run_ms: { type: INTEGER, literal: intLiteral(inputs.run_ms ?? 300) },
      ...(inputs.fail_with ? { fail_with: { type: STRING, literal: stringLiteral(inputs.fail_with) } } : {}),
    },
    outputs: OUTPUTS,
    custom: {
      headers: { authorization: "Bearer {{secrets.api_token}}" },
      submit: {
        url: "{{{configs.base_url}}}/api/jobs",
        body: { numbers: "{{inputs.numbers}}", run_ms: "{{inputs.run_ms}}", ...(inputs.fail_with ? { fail_with: "{{inputs.fail_with}}" } : {}) },
      },
      job_id: "/job/id",
      status: "{{{configs.base_url}}}/api/jobs/{{job_id}}",
      state: "/state",
      states: { succeeded: ["SUCCEEDED"], failed: ["FAILED"], aborted: ["CANCELLED"] },
      message: "/error/message",
      cancel: { method: "POST", url: "{{{configs.base_url}}}/api/jobs/{{job_id}}/cancel" },
      outputs: { total: "/result/total", items: "/result/items", label: "/result/label", finished: "/result/finished_at" },
      log_links: [{ name: "Job console", url: "{{{configs.base_url}}}{{{submit.console}}}" }],
      secrets: { api_token: "job-api-token" },
      ...overrides,
    },
    configs,
    secrets,
  });
  request.taskExecutionMetadata!.taskExecutionId!.nodeExecutionId!.executionId!.name = `run-${Math.random().toString(36).slice(2)}`;
  return request;
}

const poll = (meta: Uint8Array, until?: Parameters<typeof pollTask>[2]["until"]) =>
  pollTask(client, meta, { category: CATEGORY, connection: connection(), intervalMs: 50, ...(until ? { until } : {}) });
const deleteTask = (meta: Uint8Array) => client.deleteTask({ taskCategory: CATEGORY, resourceMeta: meta, connection: connection() }, { timeoutMs: 10_000 });

describe("HTTP job connector through the service, with grpc-js as the executor", () => {
  test("submit, poll, success: outputs from the final answer by JSON pointer, typed by the interface", async () => {
    const created = await client.createTask(jobTask({ numbers: [1, 2, 3, 4] }), { timeoutMs: 10_000 });
    const { resource, phases } = await poll(created.resourceMeta);
    expect(phases.at(-1)).toBe("SUCCEEDED");
    expect(phases).toContain("RUNNING");
    expect(valuesFromOutputs(resource.outputs, OUTPUTS)).toEqual({
      total: 10n,
      items: [1, 2, 3, 4].map((n) => ({ value: n, square: n * n })),
      label: "sum of 4",
      finished: expect.any(Datetime),
    });
    const jobId = `job-${[...api.jobs.keys()].length}`;
    expect(resource.logLinks.map((l) => [l.name, l.uri])).toEqual([["Job console", `${api.url}/console/${jobId}`]]);
    expect(resource.message).toBe(`job ${jobId}: SUCCEEDED`);

    const submit = api.requests.find((r) => r.method === "POST" && r.path === "/api/jobs")!;
    expect(JSON.parse(submit.body)).toEqual({ numbers: [1, 2, 3, 4], run_ms: 300 });
    expect(submit.headers["authorization"]).toBe(`Bearer ${api.token}`);
    expect(submit.headers["idempotency-key"]).toMatch(/^[0-9a-f]{32}$/);
    // The token went to the API and nowhere else: not into the metadata the executor stores.
    const meta = new TextDecoder().decode(created.resourceMeta);
    expect(meta).not.toContain(api.token);
    expect(meta).toContain("{{secrets.api_token}}");
    await deleteTask(created.resourceMeta);
  });

  test("a job that fails is FAILED with the API's message", async () => {
    const created = await client.createTask(jobTask({ numbers: [1], fail_with: "disk on fire" }));
    const { resource, phases } = await poll(created.resourceMeta);
    expect(phases.at(-1)).toBe("FAILED");
    expect(resource.message).toMatch(/^job job-\d+: FAILED: disk on fire$/);
  });

  test("a submission the API refuses fails the task with its answer", async () => {
    const created = await client.createTask(jobTask({ numbers: [1] }, { submit: { url: "{{{configs.base_url}}}/api/jobs", body: { numbers: "not a list" } } }));
    const { resource, phases } = await poll(created.resourceMeta);
    expect(phases).toEqual(["FAILED"]);
    expect(resource.message).toBe(`the job API refused the job: HTTP 400 from POST ${api.url}/api/jobs: {"error":"numbers must be a list"}`);
  });

  test("DeleteTask cancels the job; again is fine", async () => {
    const created = await client.createTask(jobTask({ numbers: [1], run_ms: 60_000 }));
    await poll(created.resourceMeta, (r) => r.phase === 2 /* RUNNING */);
    await deleteTask(created.resourceMeta);
    const jobId = JSON.parse(new TextDecoder().decode(created.resourceMeta)).job_id as string;
    expect(api.requests.filter((r) => r.path === `/api/jobs/${jobId}/cancel`).length).toBe(1);
    expect(api.jobs.get(jobId)?.cancelled).toBe(true);
    const { phases, resource } = await poll(created.resourceMeta);
    expect(phases).toEqual(["ABORTED"]);
    expect(resource.message).toMatch(/: CANCELLED$/);
    await deleteTask(created.resourceMeta);
  });

  test("transient 5xx answers are retried inside one call", async () => {
    const created = await client.createTask(jobTask({ numbers: [5, 6], run_ms: 100 }));
    await new Promise((r) => setTimeout(r, 150));
    const before = api.requests.length;
    api.failNext(2, 503);
    const { phases, resource } = await poll(created.resourceMeta);
    expect(phases).toEqual(["SUCCEEDED"]);
    expect(valuesFromOutputs(resource.outputs, OUTPUTS)["total"]).toBe(11n);
    // The two 503s and then the answer, all within the one GetTask.
    expect(api.requests.length - before).toBe(3);
  });

  test("answers that take too long are retried, then reported as RETRYABLE_FAILED", async () => {
    const created = await client.createTask(jobTask({ numbers: [1, 1], run_ms: 50 }, { request_timeout_ms: 200 }));
    await new Promise((r) => setTimeout(r, 100));
    // Two slow answers, then a quick one: still inside the call's budget.
    api.delayNext(2, 1000);
    const slowThenFast = await poll(created.resourceMeta);
    expect(slowThenFast.phases).toEqual(["SUCCEEDED"]);
    // Every answer slow: the budget runs out.
    api.delayNext(100, 1000);
    try {
      const slow = await poll(created.resourceMeta);
      expect(slow.phases).toEqual(["RETRYABLE_FAILED"]);
      expect(slow.resource.message).toMatch(/failed \d+ times in [\d.]+ s; last: no response in time$/);
    } finally {
      api.delayNext(0, 0);
    }
  });

  test("API down: GetTask answers RETRYABLE_FAILED, not an RPC error; it recovers when the API is back", async () => {
    const created = await client.createTask(jobTask({ numbers: [7], run_ms: 60_000 }));
    await api.stop();
    try {
      const down = await poll(created.resourceMeta);
      expect(down.phases).toEqual(["RETRYABLE_FAILED"]);
      expect(down.resource.message).toMatch(
        /^could not read the status of job job-\d+: GET http:\/\/127\.0\.0\.1:\d+\/api\/jobs\/job-\d+ failed \d+ times in [\d.]+ s; last: connect ECONNREFUSED/,
      );
      // Submitting while down: CreateTask succeeds and the first GetTask reports the failure.
      const whileDown = await client.createTask(jobTask({ numbers: [1] }));
      const submitDown = await poll(whileDown.resourceMeta);
      expect(submitDown.phases).toEqual(["RETRYABLE_FAILED"]);
      expect(submitDown.resource.message).toMatch(/^could not submit the job: POST .* last: connect ECONNREFUSED/);
      // A cancel that cannot get through is an error, which the executor retries.
      const cancelDown = await grpcStatusOf(deleteTask(created.resourceMeta));
      expect(cancelDown.code).toBe(grpc.status.INTERNAL);
    } finally {
      await api.start();
    }
    const back = await poll(created.resourceMeta, () => true);
    expect(back.phases).toEqual(["RUNNING"]);
    const fresh = await client.createTask(jobTask({ numbers: [2, 3], run_ms: 50 }));
    expect(valuesFromOutputs((await poll(fresh.resourceMeta)).resource.outputs, OUTPUTS)["total"]).toBe(5n);
    await deleteTask(created.resourceMeta);
  });

  test("a bad configuration is refused at CreateTask", async () => {
    const missingStatus = await grpcStatusOf(client.createTask(jobTask({ numbers: [1] }, { status: null })));
    expect(missingStatus.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(missingStatus.details).toContain('custom["status"] needs a "url"');
    const encodedBase = await grpcStatusOf(client.createTask(jobTask({ numbers: [1] }, { submit: { url: "{{configs.base_url}}/api/jobs" } })));
    expect(encodedBase.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(encodedBase.details).toContain("{{{configs.base_url}}}");
  });

  test("the API token never reaches the logs", () => {
    expect(logText.length).toBeGreaterThan(0);
    expect(logText).not.toContain(api.token);
  });
});
