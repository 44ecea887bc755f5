import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { status, type ServiceError } from "@grpc/grpc-js";
import { State } from "#idl1/flyteidl/admin/agent_pb.js";
import { TaskExecution_Phase as Phase } from "#idl1/flyteidl/core/execution_pb.js";
import { SyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase as F2Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { HttpCallConnector } from "../../../src/connectors/http-job/http-call-connector.js";
import { idempotencyKeyFor } from "../../../src/service/rpc/idempotency-key.js";
import { createConnectorRegistry } from "../../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";
import { executeTaskSync, F1_FLOAT, F1_STRING, f1String, flytekitInputs, flytekitTemplate, type Flyte1TaskSpec } from "../../helpers/flyte1-tasks.js";
import { grpcJsClient } from "../../helpers/grpc-js-client.js";
import { createTaskRequest, FLOAT, STRING, stringLiteral } from "../../support/tasks.js";

/**
 * A model-scoring API that answers at once, as many do: `POST /v1/classify {text}` → `{label, score}`; a
 * Bearer token is required when the server is given one; `/v1/overloaded` answers 503, `/v1/refuse` 400.
 */
interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
const received: Received[] = [];
let api: Server;
let apiUrl: string;
const TOKEN = "s3cr3t-t0k3n";

let svc: RunningService;
beforeAll(async () => {
  api = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      const reply = (code: number, value: unknown) => {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (req.url === "/v1/overloaded") return reply(503, { error: "overloaded" });
      if (req.url === "/v1/refuse") return reply(400, { error: "text too long" });
      if (req.url?.startsWith("/v1/classify-auth") && req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, { error: "unauthorized" });
      if (req.method !== "POST" || req.headers["content-type"] !== "application/json") return reply(415, { error: "JSON POST expected" });
      const { text } = JSON.parse(body) as { text: string };
      return reply(200, { label: text.includes("great") ? "positive" : "negative", score: 0.93 });
    });
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  svc = await startService({ registry: createConnectorRegistry([new HttpCallConnector({ callBudgetMs: 800 })]) });
});
afterAll(async () => {
  await svc.close();
  await new Promise((resolve) => api.close(resolve));
});

const task = (path: string, text = "a great day"): Flyte1TaskSpec => ({
  type: "http_call",
  inputs: { text: { type: F1_STRING, literal: f1String(text) } },
  outputs: { label: F1_STRING, score: F1_FLOAT },
  custom: { request: { url: `${apiUrl}${path}`, body: { text: "{{inputs.text}}" } }, outputs: { label: "/label", score: "/score" } },
});

async function sync(spec: Flyte1TaskSpec) {
  const client = grpcJsClient(SyncAgentService, svc.address);
  try {
    const [res] = await executeTaskSync(client.raw, [
      { part: { case: "header", value: { template: flytekitTemplate(spec), outputPrefix: "s3://b/n0/data/0" } } },
      { part: { case: "inputs", value: flytekitInputs(spec) } },
    ]);
    return res?.res.case === "header" ? res.res.value.resource : undefined;
  } finally {
    client.close();
  }
}

test("Flyte 1 ExecuteTaskSync: one POST rendered from the inputs, outputs read from the answer", async () => {
  const before = received.length;
  const resource = await sync(task("/v1/classify"));
  expect(resource).toMatchObject({ phase: Phase.SUCCEEDED, state: State.SUCCEEDED });
  const label = resource?.outputs?.literals["label"];
  expect(label?.value.case === "scalar" && label.value.value.value.case === "primitive" && label.value.value.value.value.value).toEqual({
    case: "stringValue",
    value: "positive",
  });
  const score = resource?.outputs?.literals["score"];
  expect(score?.value.case === "scalar" && score.value.value.value.case === "primitive" && score.value.value.value.value.value).toEqual({
    case: "floatValue",
    value: 0.93,
  });
  const sent = received.slice(before);
  expect(sent).toHaveLength(1);
  expect(JSON.parse(sent[0]!.body)).toEqual({ text: "a great day" });
  // The attempt's idempotency key goes along, so an API that honours it does the work once.
  expect(sent[0]!.headers["idempotency-key"]).toBe(idempotencyKeyFor(undefined, "s3://b/n0/data/0"));
});

test("an overloaded API is retried within the budget, then RETRYABLE_FAILED; a refusal is FAILED with the answer", async () => {
  const before = received.length;
  const overloaded = await sync(task("/v1/overloaded"));
  expect(overloaded).toMatchObject({ phase: Phase.RETRYABLE_FAILED, state: State.RETRYABLE_FAILURE });
  expect(received.length - before).toBeGreaterThan(1);
  const refused = await sync(task("/v1/refuse"));
  expect(refused?.phase).toBe(Phase.FAILED);
  expect(refused?.message).toMatch(/^the API refused the call: HTTP 400 from POST http:\/\/127\.0\.0\.1:\d+\/v1\/refuse: \{"error":"text too long"\}/);
});

test("a bad configuration is INVALID_ARGUMENT", async () => {
  const client = grpcJsClient(SyncAgentService, svc.address);
  try {
    const spec = { ...task("/v1/classify"), custom: { outputs: {} } };
    const err = await executeTaskSync(client.raw, [
      { part: { case: "header", value: { template: flytekitTemplate(spec) } } },
      { part: { case: "inputs", value: flytekitInputs(spec) } },
    ]).catch((e: ServiceError) => e);
    expect((err as ServiceError).code).toBe(status.INVALID_ARGUMENT);
    expect(decodeURIComponent((err as ServiceError).details)).toMatch(/custom\["request"\] needs a "url"/);
  } finally {
    client.close();
  }
});

test("Flyte 2 CreateTask + GetTask: the same call, with the connection's secret in a header and never in the metadata", async () => {
  const c = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    const created = await c.createTask(
      createTaskRequest({
        type: "http_call",
        inputs: { text: { type: STRING, literal: stringLiteral("not so great") } },
        outputs: { label: STRING, score: FLOAT },
        custom: { request: { url: `${apiUrl}/v1/classify-auth`, headers: { Authorization: "Bearer {{secrets.token}}" }, body: { text: "{{inputs.text}}" } } },
        secrets: { token: TOKEN },
      }),
    );
    expect(Buffer.from(created.resourceMeta).toString()).not.toContain(TOKEN);
    const got = await c.getTask({ taskCategory: { name: "http_call", version: 0 }, resourceMeta: created.resourceMeta });
    expect(got.resource?.phase).toBe(F2Phase.SUCCEEDED);
    expect(got.resource?.outputs?.literals.map((l) => l.name)).toEqual(["label", "score"]);
  } finally {
    c.close();
  }
});
