import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { deepLiteralCreateTask } from "../support/deep-literal.js";
import { grpcFrame, gzipFrame, rawGrpcCall } from "../support/raw-clients.js";

/**
 * Issue 11 item 8: a request message that does not parse is bad input, INVALID_ARGUMENT, on every path, with
 * the same message: a literal nested deeper than protobuf's recursion limit (100 messages; each collection
 * level is two) and plain garbage. The gRPC fast path decodes binary itself; on connect's binary paths
 * (Connect `application/proto`, gRPC-Web, gRPC with the fast path off) the message is read and decoded ahead
 * of connect, which would say INTERNAL (docs/errors.md, "Messages that do not parse"); JSON is connect's own.
 */
const CREATE = `/${AsyncConnectorService.typeName}/CreateTask`;
const LOGS = `/${AsyncConnectorService.typeName}/GetTaskLogs`;
let on: RunningService;
let off: RunningService;
const sessions: http2.ClientHttp2Session[] = [];
beforeAll(async () => {
  [on, off] = await Promise.all([startService({ config: { grpcFastPath: true } }), startService({ config: { grpcFastPath: false } })]);
});
afterAll(async () => {
  for (const s of sessions) s.destroy();
  await Promise.all([on.close(), off.close()]);
});

interface Answer {
  readonly code: number;
  readonly message: string;
}

/** A CreateTask sent as given bytes by grpc-js (a real gRPC client; no protobuf-es encode on the way). */
function grpcJs(svc: RunningService, path: string, body: Buffer): Promise<Answer> {
  const client = new grpc.Client(new URL(svc.url).host, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err) => {
        client.close();
        resolve({ code: err?.code ?? grpc.status.OK, message: decodeURIComponent(err?.details ?? "") });
      },
    );
  });
}

/** A raw gRPC call over HTTP/2 (any method kind, compressed frames). */
async function rawGrpc(svc: RunningService, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const session = http2.connect(svc.url);
  session.on("error", () => {});
  sessions.push(session);
  const answer = await rawGrpcCall(session, path, body, headers);
  const all = { ...answer.headers, ...answer.trailers };
  return { code: Number(all["grpc-status"]), message: decodeURIComponent(all["grpc-message"] ?? "") };
}

/** Connect over HTTP/1.1 (fetch): the error JSON of a unary call, or the end-of-stream message of a streaming one. */
async function connect(path: string, contentType: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Answer & { httpStatus: number }> {
  const res = await fetch(`${on.url}${path}`, { method: "POST", headers: { "content-type": contentType, ...headers }, body: new Uint8Array(body) });
  const bytes = Buffer.from(await res.arrayBuffer());
  // A streaming response: envelopes, the last one (flag 2) the end-of-stream JSON.
  const json = contentType.startsWith("application/connect+") ? JSON.parse(lastEnvelope(bytes).toString("utf8")).error : JSON.parse(bytes.toString("utf8"));
  return { httpStatus: res.status, code: CONNECT_CODES[json.code as string] ?? -1, message: json.message };
}

/** gRPC-Web over HTTP/1.1 (fetch): the status in the headers (trailers-only) or in the trailers frame. */
async function grpcWeb(path: string, body: Buffer): Promise<Answer> {
  const res = await fetch(`${on.url}${path}`, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: new Uint8Array(body) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const trailer = bytes.length > 0 ? lastEnvelope(bytes).toString("latin1") : "";
  const status = res.headers.get("grpc-status") ?? /grpc-status:\s*(\d+)/.exec(trailer)?.[1];
  const message = res.headers.get("grpc-message") ?? /grpc-message:\s*([^\r\n]*)/.exec(trailer)?.[1] ?? "";
  return { code: Number(status), message: decodeURIComponent(message) };
}

function lastEnvelope(bytes: Buffer): Buffer {
  let at = 0;
  let last: Buffer = Buffer.alloc(0);
  while (at + 5 <= bytes.length) {
    const length = bytes.readUInt32BE(at + 1);
    last = bytes.subarray(at + 5, at + 5 + length);
    at += 5 + length;
  }
  return last;
}

const CONNECT_CODES: Readonly<Record<string, number>> = { invalid_argument: grpc.status.INVALID_ARGUMENT, internal: grpc.status.INTERNAL };

/** Truncated: field 1 announces 5 bytes, 1 follows. */
const GARBAGE = Buffer.from([0x0a, 0x05, 0x61]);
const INPUTS: ReadonlyArray<{ name: string; binary: Buffer; json?: string; reason: RegExp }> = [
  {
    name: "a literal nested 60 deep",
    ...deepLiteralCreateTask(60),
    reason: /^parse binary: cannot decode message flyteidl2\.core\.\w+ from binary: maximum recursion depth of 100 reached$/,
  },
  {
    name: "a literal nested 5000 deep",
    ...deepLiteralCreateTask(5_000),
    reason: /^parse binary: cannot decode message flyteidl2\.core\.\w+ from binary: maximum recursion depth of 100 reached$/,
  },
  { name: "garbage bytes", binary: GARBAGE, reason: /^parse binary: premature EOF$/ },
];

describe.each(INPUTS)("$name", ({ binary, json, reason }) => {
  let expected: Answer;
  beforeAll(async () => {
    // The fast path's answer, which every other binary path must give word for word.
    expected = await grpcJs(on, CREATE, binary);
  });

  test("gRPC on the fast path (grpc-js): INVALID_ARGUMENT", () => {
    expect(expected.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(expected.message).toMatch(reason);
  });

  test("gRPC through connect (fast path off, grpc-js): the same", async () => {
    expect(await grpcJs(off, CREATE, binary)).toEqual(expected);
  });

  test("gRPC through connect, gzip-compressed frame: the same", async () => {
    expect(await rawGrpc(off, CREATE, gzipFrame(binary), { "grpc-encoding": "gzip" })).toEqual(expected);
  });

  test("Connect binary: HTTP 400 invalid_argument, the same message (also gzip-compressed)", async () => {
    const plain = await connect(CREATE, "application/proto", binary);
    expect(plain).toEqual({ httpStatus: 400, ...expected });
    const gzipped = await connect(CREATE, "application/proto", gzipSync(binary), { "content-encoding": "gzip" });
    expect(gzipped).toEqual({ httpStatus: 400, ...expected });
  });

  test("gRPC-Web binary: the same", async () => {
    expect(await grpcWeb(CREATE, grpcFrame(binary))).toEqual(expected);
  });

  if (json !== undefined) {
    test("Connect JSON: HTTP 400 invalid_argument", async () => {
      const res = await fetch(`${on.url}${CREATE}`, { method: "POST", headers: { "content-type": "application/json" }, body: json });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/maximum recursion depth of 100 reached/) });
    });
  }
});

describe("a server-streaming request (GetTaskLogs) that does not parse", () => {
  const wording = /^parse binary: premature EOF$/;

  test.each([
    ["gRPC through connect", () => rawGrpc(off, LOGS, grpcFrame(GARBAGE))],
    ["gRPC-Web", () => grpcWeb(LOGS, grpcFrame(GARBAGE))],
    ["Connect streaming binary", () => connect(LOGS, "application/connect+proto", grpcFrame(GARBAGE))],
  ])("%s: INVALID_ARGUMENT", async (_name, call) => {
    const answer = await call();
    expect(answer.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(answer.message).toMatch(wording);
  });
});
