import * as http2 from "node:http2";
import { create, fromJson, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  CreateTaskRequestSchema,
  DeleteTaskRequestSchema,
  GetAgentRequestSchema,
  GetTaskMetricsRequestSchema,
  GetTaskRequestSchema,
  ListAgentsRequestSchema,
} from "#idl1/flyteidl/admin/agent_pb.js";
import { LiteralMapSchema } from "#idl1/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema } from "#idl1/flyteidl/core/types_pb.js";
import { builtinConnectors } from "../../../src/connectors/builtins.js";
import { createConnectorRegistry } from "../../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";
import { f1Float, flyte1CreateRequest } from "../../helpers/flyte1-tasks.js";
import { scrape, valueOf } from "../../support/prometheus-text.js";
import { grpcFrame, rawGrpcCall, type RawGrpcAnswer } from "../../support/raw-clients.js";

// Flyte 1's unary methods take the gRPC fast path like Flyte 2's: the same raw requests to a server with the
// fast path and one without must get the same answers, byte for byte, and only the fast-path server names
// its accepted encodings (which shows the call went that way).

const OK = 0;
let on: RunningService;
let off: RunningService;
const sessions: http2.ClientHttp2Session[] = [];
const session = (svc: RunningService) => {
  const s = http2.connect(svc.url);
  s.on("error", () => {});
  sessions.push(s);
  return s;
};
beforeAll(async () => {
  [on, off] = await Promise.all([
    startService({ registry: createConnectorRegistry(builtinConnectors()), config: { grpcFastPath: true } }),
    startService({ registry: createConnectorRegistry(builtinConnectors()), config: { grpcFastPath: false } }),
  ]);
});
afterAll(async () => {
  for (const s of sessions) s.destroy();
  await Promise.all([on.close(), off.close(), on.registry.close(), off.registry.close()]);
});

const frame = <M extends DescMessage>(schema: M, init: MessageInitShape<M>) => grpcFrame(toBinary(schema, create(schema, init)));
const AGENTS = "/flyteidl.service.AsyncAgentService";
const METADATA = "/flyteidl.service.AgentMetadataService";
const FLOAT = fromJson(LiteralTypeSchema, { simple: "FLOAT" });
const echo = flyte1CreateRequest({ type: "echo", inputs: { x: { type: FLOAT, literal: f1Float(1.25) } }, outputs: { x: FLOAT } });
const echoMeta = new TextEncoder().encode('{"outputs_b64": "ChIKAXgSDQoLCgkRAAAAAAAA9D8=", "output_types": {"x": "CAI="}}');

function normalised(a: RawGrpcAnswer) {
  const all: Record<string, string> = { ...a.headers, ...a.trailers };
  delete all["grpc-accept-encoding"];
  return { status: a.status, metadata: all, body: a.body.toString("hex") };
}

const CASES: readonly { name: string; path: string; body: Buffer; code: number; message?: RegExp }[] = [
  { name: "ListAgents", path: `${METADATA}/ListAgents`, body: frame(ListAgentsRequestSchema, {}), code: OK },
  { name: "GetAgent", path: `${METADATA}/GetAgent`, body: frame(GetAgentRequestSchema, { name: "Hash Connector" }), code: OK },
  { name: "GetAgent unknown", path: `${METADATA}/GetAgent`, body: frame(GetAgentRequestSchema, { name: "nope" }), code: Code.NotFound },
  { name: "CreateTask echo", path: `${AGENTS}/CreateTask`, body: frame(CreateTaskRequestSchema, echo), code: OK },
  {
    name: "CreateTask unknown type",
    path: `${AGENTS}/CreateTask`,
    body: frame(CreateTaskRequestSchema, flyte1CreateRequest({ type: "nope" })),
    code: Code.NotFound,
  },
  {
    name: "GetTask echo (state and outputs)",
    path: `${AGENTS}/GetTask`,
    body: frame(GetTaskRequestSchema, { taskCategory: { name: "echo", version: 0 }, resourceMeta: echoMeta }),
    code: OK,
  },
  {
    name: "GetTask by the deprecated task_type",
    path: `${AGENTS}/GetTask`,
    body: frame(GetTaskRequestSchema, { taskType: "echo", resourceMeta: echoMeta }),
    code: OK,
  },
  {
    name: "GetTask bad metadata",
    path: `${AGENTS}/GetTask`,
    body: frame(GetTaskRequestSchema, { taskCategory: { name: "echo", version: 0 }, resourceMeta: new TextEncoder().encode("[") }),
    code: Code.InvalidArgument,
    message: /^invalid resource_meta for task type echo/,
  },
  {
    name: "DeleteTask",
    path: `${AGENTS}/DeleteTask`,
    body: frame(DeleteTaskRequestSchema, { taskCategory: { name: "echo", version: 0 }, resourceMeta: echoMeta }),
    code: OK,
  },
  {
    name: "GetTaskMetrics unimplemented",
    path: `${AGENTS}/GetTaskMetrics`,
    body: frame(GetTaskMetricsRequestSchema, { taskCategory: { name: "echo", version: 0 }, resourceMeta: echoMeta }),
    code: Code.Unimplemented,
  },
];

test.each(CASES)("$name: the same answer with the fast path on and off", async (c) => {
  const [a, b] = await Promise.all([rawGrpcCall(session(on), c.path, c.body), rawGrpcCall(session(off), c.path, c.body)]);
  expect(normalised(a)).toEqual(normalised(b));
  const status = { ...a.headers, ...a.trailers };
  expect(status["grpc-status"]).toBe(String(c.code));
  if (c.message) expect(decodeURIComponent(status["grpc-message"] ?? "")).toMatch(c.message);
  expect(a.headers["grpc-accept-encoding"]).toBe("gzip,br");
  expect(b.headers["grpc-accept-encoding"]).toBeUndefined();
});

test("the echo metadata above is what CreateTask makes, so GetTask reads a real task", async () => {
  const created = await rawGrpcCall(session(on), `${AGENTS}/CreateTask`, frame(CreateTaskRequestSchema, echo));
  expect(created.body.subarray(5 + 2).toString()).toBe(new TextDecoder().decode(echoMeta));
});

test("Flyte 1 CreateTask counts its LiteralMap's size in Python's input-bytes metric, on both transports", async () => {
  const inputBytes = toBinary(LiteralMapSchema, create(LiteralMapSchema, echo.inputs));
  for (const svc of [on, off]) {
    const before = valueOf((await scrape(svc.metricsUrl!)).samples, "flyte_connector_input_literal_bytes_sum", { task_type: "echo" });
    const answer = await rawGrpcCall(session(svc), `${AGENTS}/CreateTask`, frame(CreateTaskRequestSchema, echo));
    expect({ ...answer.headers, ...answer.trailers }["grpc-status"]).toBe("0");
    const after = valueOf((await scrape(svc.metricsUrl!)).samples, "flyte_connector_input_literal_bytes_sum", { task_type: "echo" });
    expect(after - before).toBe(inputBytes.byteLength);
  }
});
