import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { CreateTaskRequestSchema, type CreateTaskRequest } from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { InputsSchema, NamedLiteralSchema } from "#idl/flyteidl2/task/common_pb.js";
import { SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import { connectorRegistryFrom } from "../../src/registry/load-modules.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { scrape } from "../support/prometheus-text.js";
import { grpcFrame, rawGrpcCall } from "../support/raw-clients.js";
import { createTaskRequest, intLiteral, STRING, stringLiteral } from "../support/tasks.js";

/**
 * Connector calls with a large request run on the large-request worker thread, with connectors it loaded
 * itself from the same module, over every protocol; small ones stay on the event loop. Errors, cancellation
 * and a worker that dies come back to the caller as they would from the event loop.
 */
const FIXTURE = join(__dirname, "../fixtures/thread-connectors.ts");
const LARGE = 64 * 1024;
const INT_MAP = { type: { case: "mapValueType" as const, value: { type: { case: "simple" as const, value: SimpleType.INTEGER } } } };

let svc: RunningService;
let onLoop: RunningService;
const dir = mkdtempSync(join(tmpdir(), "fc-large-worker-"));
beforeAll(async () => {
  const connectors = { builtins: false, modules: [FIXTURE], cwd: process.cwd() };
  svc = await startService({ connectors, config: { largeRequestBytes: LARGE } });
  // The same connectors without the worker: the reference the worker's answers are compared with.
  onLoop = await startService({ connectors, config: { largeRequestBytes: LARGE, largeRequestWorker: false } });
});
afterAll(async () => {
  await svc.close();
  await onLoop.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A thread-report CreateTask whose `m` input is a map of `entries` integers. */
function threadTask(entries: number, extra: Record<string, string> = {}): CreateTaskRequest {
  const m = Object.fromEntries(Array.from({ length: entries }, (_, i) => [`k${i}`, intLiteral(i)]));
  const req = createTaskRequest({
    type: "thread-report",
    inputs: {
      m: { type: INT_MAP, literal: { value: { case: "map", value: { literals: m } } } },
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { type: STRING, literal: stringLiteral(v) }])),
    },
  });
  return req;
}

const sizeOf = (req: CreateTaskRequest) => toBinary(CreateTaskRequestSchema, req).byteLength;
const metaOf = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as { createdOn: string; mapEntries: number };

function transports(baseUrl: string) {
  const session = new Http2SessionManager(baseUrl);
  return {
    kinds: [
      ["gRPC (h2c, the fast path)", createGrpcTransport({ baseUrl, sessionManager: session })],
      ["gRPC-Web (HTTP/1.1)", createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
      ["Connect binary (HTTP/1.1)", createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true })],
    ] as const,
    close: () => session.abort(),
  };
}

test("a large CreateTask runs on the worker over gRPC, gRPC-Web and Connect; a small one on the event loop", async () => {
  const large = threadTask(20_000);
  expect(sizeOf(large)).toBeGreaterThan(LARGE);
  const small = threadTask(10);
  expect(sizeOf(small)).toBeLessThan(LARGE);
  const { kinds, close } = transports(svc.url);
  try {
    for (const [name, transport] of kinds) {
      const client = createClient(AsyncConnectorService, transport);
      const big = await client.createTask(large);
      expect({ name, ...metaOf(big.resourceMeta) }).toEqual({ name, createdOn: "worker", mapEntries: 20_000 });
      const little = await client.createTask(small);
      expect({ name, ...metaOf(little.resourceMeta) }).toEqual({ name, createdOn: "event loop", mapEntries: 10 });
    }
  } finally {
    close();
  }
});

test("a large GetTask (its resource metadata) is answered by the worker, a small one by the event loop", async () => {
  const client = createClient(AsyncConnectorService, createGrpcTransport({ baseUrl: svc.url }));
  const taskCategory = { name: "thread-report", version: 0 };
  const meta = (pad: number) => new TextEncoder().encode(JSON.stringify({ createdOn: "worker", mapEntries: 1, pad: "x".repeat(pad) }));
  const big = await client.getTask({ taskCategory, resourceMeta: meta(LARGE) });
  expect(big.resource?.message).toBe("created on worker, polled on worker");
  const little = await client.getTask({ taskCategory, resourceMeta: meta(10) });
  expect(little.resource?.message).toBe("created on worker, polled on event loop");
});

test("errors from the worker carry the code and message the event loop gives", async () => {
  const client = (url: string) => createClient(AsyncConnectorService, createGrpcTransport({ baseUrl: url }));
  const failure = async (url: string, req: CreateTaskRequest) => {
    try {
      await client(url).createTask(req);
    } catch (e) {
      const err = ConnectError.from(e);
      return { code: Code[err.code], message: err.rawMessage };
    }
    throw new Error("expected the call to fail");
  };
  // A map value that is not an integer: a literal that does not fit its declared type.
  const bad = threadTask(20_000);
  const m = bad.inputs!.literals.find((l) => l.name === "m")!.value!;
  if (m.value.case !== "map") throw new Error("m is a map");
  m.value.value.literals["k7"] = create(LiteralSchema, stringLiteral("seven"));
  const unknown = threadTask(20_000);
  unknown.template!.type = "no-such-type";
  for (const [req, code] of [
    [bad, "InvalidArgument"],
    [unknown, "NotFound"],
  ] as const) {
    const fromWorker = await failure(svc.url, req);
    expect(fromWorker.code).toBe(code);
    expect(fromWorker).toEqual(await failure(onLoop.url, req));
  }
});

test("a cancelled large call aborts the connector's signal on the worker", async () => {
  const marker = join(dir, "aborted");
  const req = threadTask(20_000, { mode: "hang", marker });
  const controller = new AbortController();
  const call = createClient(AsyncConnectorService, createGrpcTransport({ baseUrl: svc.url })).createTask(req, { signal: controller.signal });
  // The call reaches the connector (the worker is started and the request decoded), then is cancelled.
  const markerSays = () => (existsSync(marker) ? readFileSync(marker, "utf8") : "");
  for (let i = 0; i < 300 && markerSays() === ""; i++) await new Promise((r) => setTimeout(r, 50));
  expect(markerSays()).toBe("waiting on worker");
  controller.abort();
  await expect(call).rejects.toMatchObject({ code: Code.Canceled });
  for (let i = 0; i < 50 && markerSays() !== "aborted on worker"; i++) await new Promise((r) => setTimeout(r, 100));
  expect(markerSays()).toBe("aborted on worker");
  const { text } = await scrape(svc.metricsUrl!);
  expect(text).toMatch(/flyte_connector_requests_in_flight(\{[^}]*\})? 0\b/);
});

test("a worker that dies fails its call UNAVAILABLE, and the next large call starts a new one", async () => {
  const client = createClient(AsyncConnectorService, createGrpcTransport({ baseUrl: svc.url }));
  await expect(client.createTask(threadTask(20_000, { mode: "crash" }))).rejects.toMatchObject({ code: Code.Unavailable });
  const next = await client.createTask(threadTask(20_000));
  expect(metaOf(next.resourceMeta).createdOn).toBe("worker");
  // Health never noticed: the event loop was not involved.
  const check = await fetch(`${svc.url}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  expect(await check.json()).toEqual({ status: "SERVING" });
});

test("the worker is started only by a large request", async () => {
  const connectors = { builtins: false, modules: [FIXTURE], cwd: process.cwd() };
  const fresh = await startService({ connectors, config: { largeRequestBytes: LARGE } });
  try {
    const threads = () => readFileSync(`/proc/${process.pid}/status`, "utf8").match(/^Threads:\s+(\d+)/m)?.[1];
    const before = Number(threads());
    const client = createClient(AsyncConnectorService, createGrpcTransport({ baseUrl: fresh.url }));
    await client.createTask(threadTask(10));
    expect(Number(threads())).toBe(before);
    await client.createTask(threadTask(20_000));
    expect(Number(threads())).toBeGreaterThan(before);
  } finally {
    await fresh.close();
  }
});

test("a registry built in code has no worker: its large calls run on the event loop", async () => {
  const registry = await connectorRegistryFrom({ builtins: false, modules: [FIXTURE], cwd: process.cwd() });
  const inCode = await startService({ registry, config: { largeRequestBytes: LARGE } });
  try {
    const client = createClient(AsyncConnectorService, createGrpcTransport({ baseUrl: inCode.url }));
    const big = await client.createTask(threadTask(20_000));
    expect(metaOf(big.resourceMeta)).toEqual({ createdOn: "event loop", mapEntries: 20_000 });
  } finally {
    await inCode.close();
    await registry.close();
  }
});

test("a large body that does not parse is INVALID_ARGUMENT, as on the event loop", async () => {
  const good = toBinary(CreateTaskRequestSchema, threadTask(20_000));
  const truncated = good.subarray(0, good.byteLength - 3);
  const answer = async (url: string) => {
    const session = http2.connect(url);
    try {
      const { headers, trailers } = await rawGrpcCall(session, `/${AsyncConnectorService.typeName}/CreateTask`, grpcFrame(truncated));
      // A call refused before any response message is answered trailers-only.
      const end = trailers["grpc-status"] === undefined ? headers : trailers;
      return { status: end["grpc-status"], message: end["grpc-message"] };
    } finally {
      session.close();
    }
  };
  const fromWorker = await answer(svc.url);
  expect(fromWorker.status).toBe(String(Code.InvalidArgument));
  expect(fromWorker).toEqual(await answer(onLoop.url));
});

test("a large request whose inputs do not parse is INVALID_ARGUMENT from the worker too", async () => {
  // The head (template, connection) is sound; the one literal, larger than a head field, is not protobuf.
  const head = toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, { template: threadTask(1).template }));
  const named = new BinaryWriter()
    .tag(NamedLiteralSchema.field.name.number, WireType.LengthDelimited)
    .string("m")
    .tag(NamedLiteralSchema.field.value.number, WireType.LengthDelimited)
    .bytes(new Uint8Array(2 * LARGE).fill(0xff))
    .finish();
  const inputs = new BinaryWriter().tag(InputsSchema.field.literals.number, WireType.LengthDelimited).bytes(named).finish();
  const body = Buffer.concat([head, new BinaryWriter().tag(CreateTaskRequestSchema.field.inputs.number, WireType.LengthDelimited).bytes(inputs).finish()]);
  const answer = async (url: string) => {
    const session = http2.connect(url);
    try {
      const { headers, trailers } = await rawGrpcCall(session, `/${AsyncConnectorService.typeName}/CreateTask`, grpcFrame(body));
      const end = trailers["grpc-status"] === undefined ? headers : trailers;
      return { status: end["grpc-status"], message: decodeURIComponent(end["grpc-message"] ?? "") };
    } finally {
      session.close();
    }
  };
  const fromWorker = await answer(svc.url);
  expect(fromWorker.status).toBe(String(Code.InvalidArgument));
  expect(fromWorker.message).toMatch(/^parse binary: /);
  expect(fromWorker).toEqual(await answer(onLoop.url));
});
