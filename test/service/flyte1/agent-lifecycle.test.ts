import { create, toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { AgentError_Kind, State, type Resource } from "#idl1/flyteidl/admin/agent_pb.js";
import { ExecutionError_ErrorKind, TaskExecution_Phase as Phase } from "#idl1/flyteidl/core/execution_pb.js";
import { LiteralSchema as F1LiteralSchema } from "#idl1/flyteidl/core/literals_pb.js";
import { AgentMetadataService, AsyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase as F2Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { builtinConnectors } from "../../../src/connectors/builtins.js";
import { AsyncConnector, type MetricResult, type MetricsRequest, type Resource as ConnectorResource } from "../../../src/connectors/connector.js";
import { createConnectorRegistry } from "../../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";
import { CLIENT_KINDS } from "../../helpers/clients.js";
import { F1_FLOAT, f1Float, flyte1CreateRequest } from "../../helpers/flyte1-tasks.js";
import { grpcJsClient, grpcStatusOf } from "../../helpers/grpc-js-client.js";
import { createTaskRequest, FLOAT, floatLiteral } from "../../support/tasks.js";

/** A job that reports metrics, to see them cross to Flyte 1's ExecutionMetricResult. */
class MetricsConnector extends AsyncConnector<{ job: string }> {
  readonly name = "Metrics Connector";
  readonly taskTypeName = "metrics";
  async create() {
    return { job: "j1" };
  }
  async get(): Promise<ConnectorResource> {
    return { phase: "ABORTED", message: "cancelled by its owner" };
  }
  async delete() {}
  override async getMetrics(meta: { job: string }, request: MetricsRequest): Promise<MetricResult[]> {
    return request.queries.map((q) => ({ metric: q, data: { job: meta.job, points: [1, 2, 3] } }));
  }
}

let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ registry: createConnectorRegistry([...builtinConnectors(), new MetricsConnector()]) });
});
afterAll(async () => {
  await svc.close();
  await svc.registry.close();
});

const TERMINAL = new Set([Phase.SUCCEEDED, Phase.FAILED, Phase.RETRYABLE_FAILED, Phase.ABORTED]);
const STATE_OF: Record<number, State> = {
  [Phase.ABORTED]: State.PERMANENT_FAILURE,
  [Phase.RUNNING]: State.RUNNING,
  [Phase.SUCCEEDED]: State.SUCCEEDED,
  [Phase.FAILED]: State.PERMANENT_FAILURE,
  [Phase.RETRYABLE_FAILED]: State.RETRYABLE_FAILURE,
};

/** What propeller relies on: a defined phase, and the deprecated state agreeing with it. */
function expectReadableByPropeller(resource: Resource | undefined): void {
  expect(resource).toBeDefined();
  expect(resource!.phase).not.toBe(Phase.UNDEFINED);
  expect(resource!.state).toBe(STATE_OF[resource!.phase]);
}

describe.each(CLIENT_KINDS)("Flyte 1 lifecycle over $name", (kind) => {
  test("ListAgents, GetAgent, CreateTask, GetTask until terminal, GetTaskLogs, DeleteTask twice", async () => {
    const meta = kind.make(AgentMetadataService, svc.url);
    const tasks = kind.make(AsyncAgentService, svc.url);
    try {
      const list = await meta.client.listAgents({});
      expect(list.agents.map((a) => [a.name, a.isSync, a.supportedTaskCategories.map((t) => `${t.name}/${t.version}`), a.supportedTaskTypes])).toEqual([
        ["Sleep Connector", false, ["sleep/0"], ["sleep"]],
        ["Echo Connector", false, ["echo/0"], ["echo"]],
        ["PostgreSQL Connector", false, ["postgres/0"], ["postgres"]],
        ["HTTP Job Connector", false, ["http_job/0"], ["http_job"]],
        ["Bigquery Connector", false, ["bigquery_query_job_task/0"], ["bigquery_query_job_task"]],
        ["Snowflake Connector", false, ["snowflake/0"], ["snowflake"]],
        ["Databricks Connector", false, ["databricks/0"], ["databricks"]],
        ["HTTP Call Connector", true, ["http_call/0"], ["http_call"]],
        ["Hash Connector", true, ["hash/0"], ["hash"]],
        ["Metrics Connector", false, ["metrics/0"], ["metrics"]],
      ]);
      const one = await meta.client.getAgent({ name: "Hash Connector" });
      expect(one.agent).toMatchObject({ name: "Hash Connector", isSync: true, supportedTaskTypes: ["hash"] });
      expect((await grpcStatusOf(meta.client.getAgent({ name: "No Such Connector" }))).code).toBe(status.NOT_FOUND);

      // A flytekit-built template and a LiteralMap, as propeller forwards them.
      const created = await tasks.client.createTask(flyte1CreateRequest({ type: "sleep", inputs: { seconds: { type: F1_FLOAT, literal: f1Float(1.2) } } }));
      // The same bytes Flyte 2 gets: Python-style JSON metadata.
      expect(new TextDecoder().decode(created.resourceMeta)).toMatch(/^\{"seconds": 1\.2, "started_at_ms": \d+\}$/);

      const category = { name: "sleep", version: 0 };
      const phases: Phase[] = [];
      for (let i = 0; i < 100; i++) {
        const got = await tasks.client.getTask({ taskCategory: category, resourceMeta: created.resourceMeta, outputPrefix: "s3://b/x" });
        expectReadableByPropeller(got.resource);
        phases.push(got.resource!.phase);
        if (TERMINAL.has(got.resource!.phase)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(phases[0]).toBe(Phase.RUNNING);
      expect(phases.at(-1)).toBe(Phase.SUCCEEDED);

      // Logs: structured lines, and the deprecated plain lines with the same text.
      const parts = [];
      for await (const part of tasks.client.getTaskLogs({ taskCategory: category, resourceMeta: created.resourceMeta, lines: 10n, token: "" }))
        parts.push(part);
      const bodies = parts.flatMap((p) => (p.part.case === "body" ? [p.part.value] : []));
      expect(bodies.flatMap((b) => b.structuredLines.map((l) => l.message))).toEqual(["second 1 of 1.2", "done after 1.2 s"]);
      expect(bodies.flatMap((b) => b.results)).toEqual(["second 1 of 1.2", "done after 1.2 s"]);

      await tasks.client.deleteTask({ taskCategory: category, resourceMeta: created.resourceMeta });
      await tasks.client.deleteTask({ taskCategory: category, resourceMeta: created.resourceMeta });
    } finally {
      meta.close();
      tasks.close();
    }
  });
});

describe("Flyte 1 AsyncAgentService over grpc-js", () => {
  const tasks = () => grpcJsClient(AsyncAgentService, svc.address);

  test("a failed job is FAILED with a permanent state and an agent_error, never an undefined phase", async () => {
    const c = tasks();
    try {
      // Echo fails the job when an output cannot be made from its input of the same name.
      const created = await c.createTask(
        flyte1CreateRequest({ type: "echo", inputs: { v: { type: F1_FLOAT, literal: f1Float(1.5) } }, outputs: { v: { type: { simple: 3 } } as never } }),
      );
      const got = await c.getTask({ taskCategory: { name: "echo", version: 0 }, resourceMeta: created.resourceMeta });
      expectReadableByPropeller(got.resource);
      expect(got.resource?.phase).toBe(Phase.FAILED);
      expect(got.resource?.message).toMatch(/^echo cannot return its inputs as outputs: /);
      expect(got.resource?.agentError).toMatchObject({ code: "FAILED", kind: AgentError_Kind.NON_RECOVERABLE, origin: ExecutionError_ErrorKind.USER });
    } finally {
      c.close();
    }
  });

  test("outputs come back as a LiteralMap, byte for byte the literals Flyte 2 returns", async () => {
    const c = tasks();
    try {
      const created = await c.createTask(
        flyte1CreateRequest({ type: "echo", inputs: { x: { type: F1_FLOAT, literal: f1Float(2.5) } }, outputs: { x: F1_FLOAT } }),
      );
      const got = await c.getTask({ taskCategory: { name: "echo", version: 0 }, resourceMeta: created.resourceMeta });
      expect(got.resource?.phase).toBe(Phase.SUCCEEDED);
      expect(got.resource?.agentError).toBeUndefined();
      expect(Object.keys(got.resource?.outputs?.literals ?? {})).toEqual(["x"]);
      expect(toBinary(F1LiteralSchema, got.resource!.outputs!.literals["x"]!)).toEqual(toBinary(F1LiteralSchema, create(F1LiteralSchema, f1Float(2.5))));
    } finally {
      c.close();
    }
  });

  test("GetTaskMetrics answers Flyte 1's ExecutionMetricResult; an ABORTED job has a permanent state and agent_error", async () => {
    const c = tasks();
    try {
      const created = await c.createTask(flyte1CreateRequest({ type: "metrics" }));
      const metrics = await c.getTaskMetrics({ taskCategory: { name: "metrics", version: 0 }, resourceMeta: created.resourceMeta, queries: ["cpu", "rows"] });
      expect(metrics.results.map((r) => [r.metric, r.data])).toEqual([
        ["cpu", { job: "j1", points: [1, 2, 3] }],
        ["rows", { job: "j1", points: [1, 2, 3] }],
      ]);
      const got = await c.getTask({ taskCategory: { name: "metrics", version: 0 }, resourceMeta: created.resourceMeta });
      expect(got.resource).toMatchObject({ phase: Phase.ABORTED, state: State.PERMANENT_FAILURE, message: "cancelled by its owner" });
      expect(got.resource?.agentError).toMatchObject({ code: "ABORTED", kind: AgentError_Kind.NON_RECOVERABLE });
    } finally {
      c.close();
    }
  });

  test("propeller before task categories: the deprecated task_type routes GetTask and DeleteTask", async () => {
    const c = tasks();
    try {
      const created = await c.createTask(flyte1CreateRequest({ type: "sleep", inputs: { seconds: { type: F1_FLOAT, literal: f1Float(0) } } }));
      const got = await c.getTask({ taskType: "sleep", resourceMeta: created.resourceMeta });
      expect(got.resource?.phase).toBe(Phase.SUCCEEDED);
      await c.deleteTask({ taskType: "sleep", resourceMeta: created.resourceMeta });
    } finally {
      c.close();
    }
  });

  test("errors keep the Flyte 2 service's codes and messages", async () => {
    const c = tasks();
    try {
      expect(await grpcStatusOf(c.createTask(flyte1CreateRequest({ type: "no_such_type" })))).toEqual({
        code: status.NOT_FOUND,
        details: "Cannot find connector for task type: no_such_type.",
      });
      expect((await grpcStatusOf(c.getTask({ resourceMeta: new Uint8Array() }))).code).toBe(status.INVALID_ARGUMENT);
      const bad = await grpcStatusOf(c.getTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: new TextEncoder().encode("not json") }));
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
      expect(bad.details).toMatch(/^invalid resource_meta for task type sleep: /);
      expect((await grpcStatusOf(c.getTaskMetrics({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: new TextEncoder().encode("{}") }))).code).toBe(
        status.UNIMPLEMENTED,
      );
    } finally {
      c.close();
    }
  });
});

describe("one task, two generations: the metadata is the same bytes", () => {
  test("created over Flyte 2, polled and deleted over Flyte 1", async () => {
    const f2 = grpcJsClient(AsyncConnectorService, svc.address);
    const f1 = grpcJsClient(AsyncAgentService, svc.address);
    try {
      const created = await f2.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0.2) } } }));
      let phase = Phase.UNDEFINED;
      for (let i = 0; i < 50 && !TERMINAL.has(phase); i++) {
        const got = await f1.getTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: created.resourceMeta });
        expectReadableByPropeller(got.resource);
        phase = got.resource!.phase;
        if (!TERMINAL.has(phase)) await new Promise((r) => setTimeout(r, 100));
      }
      expect(phase).toBe(Phase.SUCCEEDED);
      await f1.deleteTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: created.resourceMeta });
    } finally {
      f2.close();
      f1.close();
    }
  });

  test("created over Flyte 1, polled and deleted over Flyte 2", async () => {
    const f2 = grpcJsClient(AsyncConnectorService, svc.address);
    const f1 = grpcJsClient(AsyncAgentService, svc.address);
    try {
      const created = await f1.createTask(flyte1CreateRequest({ type: "sleep", inputs: { seconds: { type: F1_FLOAT, literal: f1Float(0.2) } } }));
      let phase = F2Phase.UNDEFINED;
      for (let i = 0; i < 50 && phase !== F2Phase.SUCCEEDED; i++) {
        const got = await f2.getTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: created.resourceMeta });
        phase = got.resource!.phase;
        if (phase !== F2Phase.SUCCEEDED) await new Promise((r) => setTimeout(r, 100));
      }
      expect(phase).toBe(F2Phase.SUCCEEDED);
      await f2.deleteTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: created.resourceMeta });
    } finally {
      f2.close();
      f1.close();
    }
  });

  test("the same task created over either generation gets identical metadata", async () => {
    const f2 = grpcJsClient(AsyncConnectorService, svc.address);
    const f1 = grpcJsClient(AsyncAgentService, svc.address);
    try {
      const viaF1 = await f1.createTask(
        flyte1CreateRequest({ type: "echo", inputs: { x: { type: F1_FLOAT, literal: f1Float(4.25) } }, outputs: { x: F1_FLOAT } }),
      );
      const viaF2 = await f2.createTask(
        createTaskRequest({ type: "echo", inputs: { x: { type: FLOAT, literal: floatLiteral(4.25) } }, outputs: { x: FLOAT } }),
      );
      expect(Buffer.from(viaF1.resourceMeta).toString()).toBe(Buffer.from(viaF2.resourceMeta).toString());
    } finally {
      f2.close();
      f1.close();
    }
  });
});
