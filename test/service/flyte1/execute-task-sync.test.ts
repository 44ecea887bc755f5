import { createHash } from "node:crypto";
import { status, type ServiceError } from "@grpc/grpc-js";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { AgentError_Kind, State } from "#idl1/flyteidl/admin/agent_pb.js";
import { TaskExecution_Phase as Phase } from "#idl1/flyteidl/core/execution_pb.js";
import { SyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase as F2Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { HashConnector } from "../../../src/connectors/demo/hash-connector.js";
import { SleepConnector } from "../../../src/connectors/demo/sleep-connector.js";
import { createConnectorRegistry } from "../../../src/registry/connector-registry.js";
import { runConnector } from "../../../src/runner/run-connector.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";
import { LargeSyncConnector, SlowSyncConnector, ThrowingSyncConnector } from "../../fixtures/sync-connectors.js";
import { F1_STRING, f1String, flytekitInputs, flytekitTemplate, executeTaskSync, PROPELLER_METADATA, type Flyte1TaskSpec } from "../../helpers/flyte1-tasks.js";
import { grpcJsClient } from "../../helpers/grpc-js-client.js";
import { createTaskRequest, STRING, stringLiteral } from "../../support/tasks.js";

const slow = new SlowSyncConnector();
let svc: RunningService;
beforeAll(async () => {
  svc = await startService({
    registry: createConnectorRegistry([new HashConnector(), new ThrowingSyncConnector(), slow, new LargeSyncConnector(), new SleepConnector()]),
  });
});
afterAll(async () => {
  await svc.close();
});

const HASH: Flyte1TaskSpec = { type: "hash", inputs: { data: { type: F1_STRING, literal: f1String("hello flyte") } }, outputs: { digest: F1_STRING } };
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Propeller's shape: the header, one inputs message, half-close. */
function propellerMessages(spec: Flyte1TaskSpec) {
  return [
    {
      part: {
        case: "header" as const,
        value: {
          template: flytekitTemplate(spec),
          outputPrefix: "s3://bucket/n0/data/0",
          taskExecutionMetadata: PROPELLER_METADATA as never,
          maxDatasetSizeBytes: 1n << 20n,
        },
      },
    },
    { part: { case: "inputs" as const, value: flytekitInputs(spec) } },
  ];
}

async function grpcJsSync(spec: Flyte1TaskSpec, options: { timeoutMs?: number; halfClose?: boolean } = {}) {
  const client = grpcJsClient(SyncAgentService, svc.address);
  try {
    return await executeTaskSync(client.raw, propellerMessages(spec), options);
  } finally {
    client.close();
  }
}

async function syncError(spec: Flyte1TaskSpec, options: { timeoutMs?: number } = {}): Promise<ServiceError> {
  try {
    await grpcJsSync(spec, options);
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error("expected ExecuteTaskSync to fail");
}

describe("ExecuteTaskSync over grpc-js", () => {
  test("propeller's shape: header, inputs, half-close → exactly one header response with the outputs inline", async () => {
    const responses = await grpcJsSync(HASH);
    expect(responses).toHaveLength(1);
    const res = responses[0]!.res;
    expect(res.case).toBe("header");
    const resource = res.case === "header" ? res.value.resource : undefined;
    expect(resource?.phase).toBe(Phase.SUCCEEDED);
    expect(resource?.state).toBe(State.SUCCEEDED);
    const digest = resource?.outputs?.literals["digest"];
    expect(digest?.value.case === "scalar" && digest.value.value.value.case === "primitive" && digest.value.value.value.value.value).toEqual({
      case: "stringValue",
      value: sha256("hello flyte"),
    });
  });

  test("flytekit's shape: the answer comes after the two messages, without waiting for half-close", async () => {
    const responses = await grpcJsSync(HASH, { halfClose: false });
    expect(responses.map((r) => r.res.case)).toEqual(["header"]);
  });

  test("a ConnectorError is the task's failure: FAILED or RETRYABLE_FAILED with state and agent_error to match", async () => {
    const [failed] = await grpcJsSync({ type: "throwing_sync" });
    const f = failed!.res.case === "header" ? failed!.res.value.resource : undefined;
    expect(f).toMatchObject({ phase: Phase.FAILED, state: State.PERMANENT_FAILURE, message: "the model API rejected the prompt" });
    expect(f?.agentError?.kind).toBe(AgentError_Kind.NON_RECOVERABLE);

    const [retry] = await grpcJsSync({ type: "throwing_sync", custom: { retryable: true } });
    const r = retry!.res.case === "header" ? retry!.res.value.resource : undefined;
    expect(r).toMatchObject({ phase: Phase.RETRYABLE_FAILED, state: State.RETRYABLE_FAILURE, message: "the model API is overloaded, try again" });
    expect(r?.agentError?.kind).toBe(AgentError_Kind.RECOVERABLE);
  });

  test("any other exception fails the call with INTERNAL and the Python service's message", async () => {
    const err = await syncError({ type: "throwing_sync", custom: { crash: true } });
    expect(err.code).toBe(status.INTERNAL);
    expect(decodeURIComponent(err.details)).toBe("failed to create throwing_sync task with error:\n the model API client blew up.");
  });

  test("a sync connector past the caller's deadline: DEADLINE_EXCEEDED, and its signal aborted", async () => {
    const before = slow.aborted;
    const err = await syncError({ type: "slow_sync" }, { timeoutMs: 400 });
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    for (let i = 0; i < 50 && slow.aborted === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(slow.aborted).toBe(before + 1);
  });

  test("large outputs are answered inline up to what the caller accepts, and fail the task with a message beyond", async () => {
    const [ok] = await grpcJsSync({ type: "large_sync", custom: { bytes: 1 << 20 }, outputs: { text: F1_STRING } });
    const okResource = ok!.res.case === "header" ? ok!.res.value.resource : undefined;
    expect(okResource?.phase).toBe(Phase.SUCCEEDED);
    const text = okResource?.outputs?.literals["text"];
    expect(text?.value.case === "scalar" && text.value.value.value.case === "primitive" && text.value.value.value.value.value.value).toHaveLength(1 << 20);

    const [tooBig] = await grpcJsSync({ type: "large_sync", custom: { bytes: 4.5 * 2 ** 20 }, outputs: { text: F1_STRING } });
    const big = tooBig!.res.case === "header" ? tooBig!.res.value.resource : undefined;
    expect(big).toMatchObject({ phase: Phase.FAILED, state: State.PERMANENT_FAILURE });
    expect(big?.message).toMatch(/^the task's outputs are 4\.5 MiB, over the 4\.0 MiB the executor accepts in one response/);
  });

  test("bad streams: no header, a second header, an async connector's task type, an unknown task type", async () => {
    const client = grpcJsClient(SyncAgentService, svc.address);
    try {
      const noHeader = await executeTaskSync(client.raw, [{ part: { case: "inputs", value: { literals: {} } } }]).catch((e: ServiceError) => e);
      expect((noHeader as ServiceError).code).toBe(status.INVALID_ARGUMENT);
      const [header] = propellerMessages(HASH);
      const twice = await executeTaskSync(client.raw, [header!, header!]).catch((e: ServiceError) => e);
      expect((twice as ServiceError).code).toBe(status.INVALID_ARGUMENT);
      const asyncType = await executeTaskSync(client.raw, propellerMessages({ type: "sleep" })).catch((e: ServiceError) => e);
      expect((asyncType as ServiceError).code).toBe(status.FAILED_PRECONDITION);
      expect(decodeURIComponent((asyncType as ServiceError).details)).toMatch(/served by an async connector: use AsyncAgentService.CreateTask/);
      const unknown = await executeTaskSync(client.raw, propellerMessages({ type: "nope" })).catch((e: ServiceError) => e);
      expect((unknown as ServiceError).code).toBe(status.NOT_FOUND);
    } finally {
      client.close();
    }
  });
});

describe.each([
  ["connect-node gRPC (h2c)", (baseUrl: string, sm: Http2SessionManager) => createGrpcTransport({ baseUrl, sessionManager: sm })],
  ["connect-node Connect (h2c)", (baseUrl: string, sm: Http2SessionManager) => createConnectTransport({ baseUrl, httpVersion: "2", sessionManager: sm })],
] as const)("ExecuteTaskSync over %s", (_name, transport) => {
  test("header and inputs in, one header out", async () => {
    const sm = new Http2SessionManager(svc.url);
    try {
      const client = createClient(SyncAgentService, transport(svc.url, sm));
      async function* requests() {
        for (const m of propellerMessages(HASH)) yield m;
      }
      const out = [];
      for await (const r of client.executeTaskSync(requests())) out.push(r);
      expect(out).toHaveLength(1);
      expect(out[0]!.res.case === "header" && out[0]!.res.value.resource?.phase).toBe(Phase.SUCCEEDED);
    } finally {
      sm.abort();
    }
  });
});

describe("the same sync connectors over Flyte 2 and locally", () => {
  test("Flyte 2 CreateTask runs it and GetTask answers the stored result", async () => {
    const c = grpcJsClient(AsyncConnectorService, svc.address);
    try {
      const created = await c.createTask(
        createTaskRequest({ type: "hash", inputs: { data: { type: STRING, literal: stringLiteral("hello flyte") } }, outputs: { digest: STRING } }),
      );
      const got = await c.getTask({ taskCategory: { name: "hash", version: 0 }, resourceMeta: created.resourceMeta });
      expect(got.resource?.phase).toBe(F2Phase.SUCCEEDED);
      const digest = got.resource?.outputs?.literals.find((l) => l.name === "digest")?.value;
      expect(digest?.value.case === "scalar" && digest.value.value.value.case === "primitive" && digest.value.value.value.value.value).toEqual({
        case: "stringValue",
        value: sha256("hello flyte"),
      });
      await c.deleteTask({ taskCategory: { name: "hash", version: 0 }, resourceMeta: created.resourceMeta });
    } finally {
      c.close();
    }
  });

  test("Flyte 2: a result too large for resource metadata fails the task with what to do", async () => {
    const c = grpcJsClient(AsyncConnectorService, svc.address);
    try {
      const created = await c.createTask(createTaskRequest({ type: "large_sync", custom: { bytes: 64 * 1024 }, outputs: { text: STRING } }));
      expect(created.resourceMeta.length).toBeLessThan(16 * 1024);
      const got = await c.getTask({ taskCategory: { name: "large_sync", version: 0 }, resourceMeta: created.resourceMeta });
      expect(got.resource?.phase).toBe(F2Phase.FAILED);
      expect(got.resource?.message).toMatch(/^the task's outputs are 85\.\d KiB, over the 16\.0 KiB a sync connector keeps in resource metadata/);
      const small = await c.createTask(createTaskRequest({ type: "large_sync", custom: { bytes: 1024 }, outputs: { text: STRING } }));
      expect((await c.getTask({ taskCategory: { name: "large_sync", version: 0 }, resourceMeta: small.resourceMeta })).resource?.phase).toBe(F2Phase.SUCCEEDED);
    } finally {
      c.close();
    }
  });

  test("the local runner runs a sync connector to its outputs", async () => {
    const template = createTaskRequest({ type: "hash", inputs: { data: { type: STRING } }, outputs: { digest: STRING } }).template!;
    const result = await runConnector({ connector: new HashConnector(), template, inputs: { data: "abc" } });
    expect(result.phase).toBe("SUCCEEDED");
    expect(result.outputs).toEqual({ digest: sha256("abc") });
    const failed = await runConnector({ connector: new ThrowingSyncConnector(), template: createTaskRequest({ type: "throwing_sync" }).template! });
    expect(failed).toMatchObject({ phase: "FAILED", message: "the model API rejected the prompt" });
  });
});
