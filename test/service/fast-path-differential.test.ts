import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  CreateTaskRequestSchema,
  DeleteTaskRequestSchema,
  GetConnectorRequestSchema,
  GetTaskLogsRequestSchema,
  GetTaskRequestSchema,
  ListConnectorsRequestSchema,
} from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { SleepConnector } from "../../src/connectors/demo/sleep-connector.js";
import { HealthCheckRequestSchema } from "../../src/gen/health/v1/health_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { FailingJobConnector, ThrowingConnector } from "../fixtures/core-connectors.js";
import { HangingUntilAbortConnector, StubbornConnector } from "../fixtures/ops-connectors.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import { deepLiteralCreateTask } from "../support/deep-literal.js";
import { createTaskRequest, FLOAT, floatLiteral } from "../support/tasks.js";
import { grpcFrame, gzipFrame, rawGrpcCall, type RawGrpcAnswer } from "../support/raw-clients.js";

// The same requests to a server with the gRPC fast path and one without it (everything through connect):
// the answers must be the same, byte for byte where the bytes are deterministic. Two differences are by
// design and normalised away here: the fast path sends errors as trailers-only responses (status in the
// headers, as grpc-go and grpc-js servers do; connect sends headers, then trailers), and it names the
// encodings it accepts in `grpc-accept-encoding` on every response.

/** gRPC status OK, which connect's Code enum leaves out. */
const OK = 0;
const TOKEN = "differential-test-token-1234";
const MAX = 64 * 1024;

interface Pair {
  readonly on: RunningService;
  readonly off: RunningService;
}

async function startPair(config: Parameters<typeof startService>[0] extends infer O ? (O extends { config?: infer C } ? C : never) : never): Promise<Pair> {
  const registry = () =>
    createConnectorRegistry([
      new SleepConnector(),
      new ThrowingConnector(),
      new FailingJobConnector(),
      new HangingUntilAbortConnector(),
      new StubbornConnector(2_000),
    ]);
  const common = { maxMessageBytes: MAX, connectorLimits: { stubborn: { timeoutMs: 300 } }, ...config };
  const [on, off] = await Promise.all([
    startService({ registry: registry(), config: { ...common, grpcFastPath: true } }),
    startService({ registry: registry(), config: { ...common, grpcFastPath: false } }),
  ]);
  return { on, off };
}

let open: Pair;
let authed: Pair;
const sessions: http2.ClientHttp2Session[] = [];
const session = (svc: RunningService) => {
  const s = http2.connect(svc.url);
  s.on("error", () => {});
  sessions.push(s);
  return s;
};

beforeAll(async () => {
  [open, authed] = await Promise.all([startPair({}), startPair({ authTokens: [TOKEN] })]);
});
afterAll(async () => {
  for (const s of sessions) s.destroy();
  await Promise.all([open.on.close(), open.off.close(), authed.on.close(), authed.off.close()]);
});

const bin = <M extends DescMessage>(schema: M, init: MessageInitShape<M>) => toBinary(schema, create(schema, init));
const meta = (o: object) => new TextEncoder().encode(JSON.stringify(o));
const CONNECTOR = "/flyteidl2.connector.AsyncConnectorService";
const METADATA = "/flyteidl2.connector.ConnectorMetadataService";

/** The answer with its status wherever it was sent, and without the one header only the fast path sends. */
function normalised(a: RawGrpcAnswer) {
  const all: Record<string, string> = { ...a.headers, ...a.trailers };
  delete all["grpc-accept-encoding"];
  return { status: a.status, metadata: all, body: a.body.toString("hex"), rstCode: a.rstCode };
}

interface Case {
  readonly name: string;
  readonly path: string;
  readonly body: Buffer;
  readonly headers?: Record<string, string>;
  /** The gRPC status both servers must send. */
  readonly code: number;
  readonly message?: string | RegExp;
}

const getTask = (init: MessageInitShape<typeof GetTaskRequestSchema>) => grpcFrame(bin(GetTaskRequestSchema, init));

const CASES: readonly Case[] = [
  { name: "ListConnectors", path: `${METADATA}/ListConnectors`, body: grpcFrame(bin(ListConnectorsRequestSchema, {})), code: OK },
  { name: "GetConnector unknown", path: `${METADATA}/GetConnector`, body: grpcFrame(bin(GetConnectorRequestSchema, { name: "nope" })), code: Code.NotFound },
  { name: "Health Check", path: "/grpc.health.v1.Health/Check", body: grpcFrame(bin(HealthCheckRequestSchema, {})), code: OK },
  {
    name: "Health Check unknown service",
    path: "/grpc.health.v1.Health/Check",
    body: grpcFrame(bin(HealthCheckRequestSchema, { service: "x" })),
    code: Code.NotFound,
  },
  {
    name: "GetTask succeeded",
    path: `${CONNECTOR}/GetTask`,
    body: getTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: meta({ seconds: 0, started_at_ms: 0 }) }),
    code: OK,
  },
  {
    name: "GetTask failed job (a phase, not an error)",
    path: `${CONNECTOR}/GetTask`,
    body: getTask({ taskCategory: { name: "failing_job", version: 0 }, resourceMeta: meta({ job_id: "permanent" }) }),
    code: OK,
  },
  {
    name: "GetTask bad metadata",
    path: `${CONNECTOR}/GetTask`,
    body: getTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: meta({ seconds: "x" }) }),
    code: Code.InvalidArgument,
    message: /^invalid resource_meta for task type sleep: /,
  },
  { name: "GetTask unknown type", path: `${CONNECTOR}/GetTask`, body: getTask({ taskCategory: { name: "nope", version: 0 } }), code: Code.NotFound },
  { name: "GetTask no category", path: `${CONNECTOR}/GetTask`, body: getTask({}), code: Code.InvalidArgument },
  {
    name: "GetTask connector throws",
    path: `${CONNECTOR}/GetTask`,
    body: getTask({ taskCategory: { name: "throwing", version: 0 }, resourceMeta: meta({ job_id: "1" }) }),
    code: Code.Internal,
    message: "failed to get throwing task with error:\n the job API fell over.",
  },
  {
    name: "GetTask deadline expires in a slow connector",
    path: `${CONNECTOR}/GetTask`,
    body: getTask({ taskCategory: { name: "hang", version: 0 }, resourceMeta: meta({ n: 1 }) }),
    headers: { "grpc-timeout": "200m" },
    code: Code.DeadlineExceeded,
  },
  {
    name: "GetTask over the connector's time limit",
    path: `${CONNECTOR}/GetTask`,
    body: getTask({ taskCategory: { name: "stubborn", version: 0 }, resourceMeta: meta({ n: 1 }) }),
    code: Code.DeadlineExceeded,
    message: "GetTask for task type stubborn did not finish within 300 ms",
  },
  {
    name: "CreateTask without template",
    path: `${CONNECTOR}/CreateTask`,
    body: grpcFrame(bin(CreateTaskRequestSchema, {})),
    code: Code.InvalidArgument,
    message: "template is required",
  },
  {
    name: "CreateTask with a bad input",
    path: `${CONNECTOR}/CreateTask`,
    body: grpcFrame(bin(CreateTaskRequestSchema, createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(-1) } } }))),
    code: Code.InvalidArgument,
  },
  {
    name: "DeleteTask with garbage metadata is OK",
    path: `${CONNECTOR}/DeleteTask`,
    body: grpcFrame(bin(DeleteTaskRequestSchema, { taskCategory: { name: "sleep", version: 0 }, resourceMeta: new Uint8Array([0xff, 1, 2]) })),
    code: OK,
  },
  {
    name: "DeleteTask of a task type nobody serves is OK",
    path: `${CONNECTOR}/DeleteTask`,
    body: grpcFrame(bin(DeleteTaskRequestSchema, { taskCategory: { name: "removed_type", version: 0 }, resourceMeta: meta({}) })),
    code: OK,
  },
  {
    name: "oversize request",
    path: `${CONNECTOR}/GetTask`,
    body: getTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: new Uint8Array(MAX + 10) }),
    code: Code.ResourceExhausted,
  },
  {
    name: "gzip bomb",
    path: `${CONNECTOR}/GetTask`,
    body: gzipFrame(bin(GetTaskRequestSchema, { taskCategory: { name: "sleep", version: 0 }, resourceMeta: new Uint8Array(4 * MAX) })),
    headers: { "grpc-encoding": "gzip" },
    code: Code.ResourceExhausted,
    message: `message is larger than configured readMaxBytes ${MAX} after decompression`,
  },
  {
    name: "gzip request",
    path: `${CONNECTOR}/GetTask`,
    body: gzipFrame(bin(GetTaskRequestSchema, { taskCategory: { name: "sleep", version: 0 }, resourceMeta: meta({ seconds: 0, started_at_ms: 0 }) })),
    headers: { "grpc-encoding": "gzip" },
    code: OK,
  },
  {
    name: "unknown encoding",
    path: `${METADATA}/ListConnectors`,
    body: grpcFrame(new Uint8Array(0)),
    headers: { "grpc-encoding": "zstd" },
    code: Code.Unimplemented,
    message: 'unknown compression "zstd": supported encodings are gzip,br',
  },
  {
    name: "compressed flag without an encoding",
    path: `${METADATA}/ListConnectors`,
    body: grpcFrame(gzipSync(new Uint8Array(0)), gzipSync(new Uint8Array(0)).length, 1),
    code: Code.Internal,
  },
  { name: "truncated frame", path: `${METADATA}/ListConnectors`, body: grpcFrame(new Uint8Array(10)).subarray(0, 8), code: Code.InvalidArgument },
  {
    name: "two messages",
    path: `${METADATA}/ListConnectors`,
    body: Buffer.concat([grpcFrame(new Uint8Array(0)), grpcFrame(new Uint8Array(0))]),
    code: Code.Unimplemented,
  },
  { name: "no message", path: `${METADATA}/ListConnectors`, body: Buffer.alloc(0), code: Code.Unimplemented },
  {
    name: "malformed grpc-timeout",
    path: `${METADATA}/ListConnectors`,
    body: grpcFrame(new Uint8Array(0)),
    headers: { "grpc-timeout": "10x" },
    code: Code.InvalidArgument,
  },
  { name: "grpc-timeout in hours", path: `${METADATA}/ListConnectors`, body: grpcFrame(new Uint8Array(0)), headers: { "grpc-timeout": "99999999H" }, code: OK },
  {
    name: "unparseable message",
    path: `${METADATA}/GetConnector`,
    body: grpcFrame(new Uint8Array([0x0a, 0x05, 0x61])),
    code: Code.InvalidArgument,
    message: /^parse binary: /,
  },
  {
    name: "over-deep nested literal",
    path: `${CONNECTOR}/CreateTask`,
    body: grpcFrame(deepLiteralCreateTask(80).binary),
    code: Code.InvalidArgument,
    message: /^parse binary: .*maximum recursion depth/,
  },
];

describe("the gRPC fast path answers exactly as connect does", () => {
  test.each(CASES)("$name", async (c) => {
    const [on, off] = await Promise.all([rawGrpcCall(session(open.on), c.path, c.body, c.headers), rawGrpcCall(session(open.off), c.path, c.body, c.headers)]);
    expect(normalised(on)).toEqual(normalised(off));
    const status = { ...on.headers, ...on.trailers };
    expect(status["grpc-status"]).toBe(String(c.code));
    if (c.message !== undefined) expect(decodeURIComponent(status["grpc-message"] ?? "")).toMatch(c.message);
    // What only the fast path does: errors trailers-only, and the accepted encodings named.
    expect(on.headers["grpc-accept-encoding"]).toBe("gzip,br");
    if (c.code !== OK) expect(on.headers["grpc-status"]).toBe(String(c.code));
  });

  test("an unknown method and a streaming method go to connect on both", async () => {
    for (const path of ["/flyteidl2.connector.AsyncConnectorService/NoSuchMethod", "/no.Such/Method"]) {
      const [on, off] = await Promise.all([
        rawGrpcCall(session(open.on), path, grpcFrame(new Uint8Array(0))),
        rawGrpcCall(session(open.off), path, grpcFrame(new Uint8Array(0))),
      ]);
      expect(on).toEqual(off);
    }
    const logs = `${CONNECTOR}/GetTaskLogs`;
    const body = grpcFrame(
      bin(GetTaskLogsRequestSchema, { taskCategory: { name: "sleep", version: 0 }, resourceMeta: meta({ seconds: 0, started_at_ms: 0 }) }),
    );
    const [on, off] = await Promise.all([rawGrpcCall(session(open.on), logs, body), rawGrpcCall(session(open.off), logs, body)]);
    expect(normalised(on)).toEqual(normalised(off));
    expect(on.trailers["grpc-status"]).toBe("0");
  });

  test("gzip responses: the same message once decompressed", async () => {
    // ListConnectors answers are small; a compressed answer needs one over compressMinBytes: the Python-style
    // NOT_FOUND is not, so check what both negotiate for a small body (identity, with grpc-encoding named).
    const path = `${METADATA}/ListConnectors`;
    const headers = { "grpc-accept-encoding": "gzip" };
    const [on, off] = await Promise.all([
      rawGrpcCall(session(open.on), path, grpcFrame(new Uint8Array(0)), headers),
      rawGrpcCall(session(open.off), path, grpcFrame(new Uint8Array(0)), headers),
    ]);
    expect(normalised(on)).toEqual(normalised(off));
    expect(on.headers["grpc-encoding"]).toBe("gzip");
  });

  test("auth: missing and wrong tokens are UNAUTHENTICATED alike, health stays open, a good token passes", async () => {
    const path = `${METADATA}/ListConnectors`;
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-value" },
      { authorization: "Basic abc" },
      { authorization: `Bearer ${TOKEN}` },
    ];
    for (const headers of attempts) {
      const [on, off] = await Promise.all([
        rawGrpcCall(session(authed.on), path, grpcFrame(new Uint8Array(0)), headers),
        rawGrpcCall(session(authed.off), path, grpcFrame(new Uint8Array(0)), headers),
      ]);
      expect(normalised(on)).toEqual(normalised(off));
      const status = { ...on.headers, ...on.trailers };
      expect(status["grpc-status"]).toBe(headers["authorization"] === `Bearer ${TOKEN}` ? "0" : String(Code.Unauthenticated));
    }
    const health = grpcFrame(bin(HealthCheckRequestSchema, {}));
    const [on, off] = await Promise.all([
      rawGrpcCall(session(authed.on), "/grpc.health.v1.Health/Check", health),
      rawGrpcCall(session(authed.off), "/grpc.health.v1.Health/Check", health),
    ]);
    expect(normalised(on)).toEqual(normalised(off));
    expect(on.trailers["grpc-status"]).toBe("0");
  });

  test("grpc-js and connect-node's gRPC transport see the same codes and messages from both", async () => {
    const outcomes = async (svc: RunningService) => {
      const js = grpcJsClient(AsyncConnectorService, svc.address);
      // Closed by its idle timeout rather than abort(), which destroys the session with CANCEL and an error event.
      const sessionManager = new Http2SessionManager(svc.url, { idleConnectionTimeoutMs: 200 });
      const connect = createClient(AsyncConnectorService, createGrpcTransport({ baseUrl: svc.url, sessionManager }));
      const calls = [
        () => ({ taskCategory: { name: "throwing", version: 0 }, resourceMeta: meta({ job_id: "1" }) }),
        () => ({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: meta({ seconds: "x" }) }),
        () => ({ taskCategory: { name: "nope", version: 0 } }),
        () => ({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: meta({ seconds: 0, started_at_ms: 0 }) }),
      ];
      const out: unknown[] = [];
      for (const req of calls) {
        out.push(
          await js.getTask(req()).then(
            (r) => ({ ok: r.resource?.phase }),
            (e) => grpcStatusOf(Promise.reject(e)),
          ),
        );
        out.push(
          await connect.getTask(req()).then(
            (r) => ({ ok: r.resource?.phase }),
            (e) => ({ code: ConnectError.from(e).code, message: ConnectError.from(e).rawMessage }),
          ),
        );
      }
      out.push(
        await js.getTask(calls[0]!(), { timeoutMs: 150 }).then(
          () => "ok",
          (e) => grpcStatusOf(Promise.reject(e)).then((s) => s.code),
        ),
      );
      out.push(
        await connect.getTask({ taskCategory: { name: "hang", version: 0 }, resourceMeta: meta({ n: 1 }) }, { timeoutMs: 150 }).then(
          () => "ok",
          (e) => ConnectError.from(e).code,
        ),
      );
      js.close();
      return out;
    };
    const [on, off] = await Promise.all([outcomes(open.on), outcomes(open.off)]);
    expect(on).toEqual(off);
    expect(on).toContainEqual({ code: Code.Internal, message: "failed to get throwing task with error:\n the job API fell over." });
  });
});
