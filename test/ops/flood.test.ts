import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient, type GrpcJsClient } from "../helpers/grpc-js-client.js";
import { Code } from "@connectrpc/connect";
import * as http2 from "node:http2";
import { headersFloodInChild } from "../support/flood.js";
import { watchingClient, type WatchingClient } from "../support/half-open.js";
import { grpcFrame, H2_PREFACE_AND_SETTINGS, h2Request, rawExchange, rawGrpcCall } from "../support/raw-clients.js";

/**
 * Cheap floods: 900 HEADERS per short connection for 5 s, with and without RST_STREAM after each. The issue
 * saw health unresponsive for 54–75 s after the client stopped. Health must answer within 1 s of the flood
 * stopping (measured as the first Check that succeeds with a 1 s deadline, not a speed check of a single
 * call), and the service's memory must come back down.
 */
let svc: RunningService;
let health: GrpcJsClient<typeof Health>;
beforeAll(async () => {
  svc = await startService();
  health = grpcJsClient(Health, svc.address);
  // Connected before the flood, as the kubelet's probe or the executor's channel would be.
  await health.check({ service: "" }, { timeoutMs: 5_000 });
});
afterAll(async () => {
  health.close();
  await svc.close();
});

const GET_TASK = { ":path": `/${AsyncConnectorService.typeName}/GetTask`, "content-type": "application/grpc", te: "trailers" };

/** How long after `since` health first answered SERVING within its own 1 s deadline. */
async function msUntilHealthy(since: number): Promise<number> {
  for (;;) {
    try {
      const r = await health.check({ service: "" }, { timeoutMs: 1_000 });
      if (r.status === ServingStatus.SERVING) return Date.now() - since;
    } catch {
      // not yet
    }
    if (Date.now() - since > 60_000) return Number.POSITIVE_INFINITY;
  }
}

describe.each([
  ["HEADERS without a body", false],
  ["HEADERS then RST_STREAM", true],
])("a 5 s flood of %s", (_, reset) => {
  test("leaves health answering within 1 s of its end", async () => {
    const result = await headersFloodInChild(svc.url, { durationMs: 5_000, streamsPerConnection: 900, reset, parallel: 4, headers: GET_TASK });
    const stopped = Date.now();
    const ms = await msUntilHealthy(stopped);
    console.log(
      `flood (${reset ? "reset" : "no reset"}): ${result.connections} connections, ${result.streams} streams, ${result.calmed} calmed; health after ${ms} ms`,
    );
    expect(result.streams).toBeGreaterThan(900);
    expect(ms).toBeLessThan(1_000);
  });
});

/** The service's count of calls shed or connections cut for `reason`. */
const shedCount = async (service: RunningService, reason: string): Promise<number> => {
  const exposition = await (await fetch(service.metricsUrl!)).text();
  return Number(new RegExp(`^flyte_connect_calls_shed_total\\{reason="${reason}"\\} (\\d+)`, "m").exec(exposition)?.[1] ?? 0);
};

test("a connection opening more streams per second than allowed gets GOAWAY ENHANCE_YOUR_CALM and is cut", async () => {
  // Its resets would otherwise trip the premature-reset limit first (below).
  const strict = await startService({ config: { http2MaxStreamsPerSecond: 100, http2MaxPrematureResets: 0 } });
  const probe = grpcJsClient(Health, strict.address);
  try {
    const result = await headersFloodInChild(strict.url, {
      durationMs: 2_000,
      streamsPerConnection: 900,
      reset: true,
      parallel: 2,
      headers: GET_TASK,
      holdMs: 500,
    });
    // Most flooding clients drop their connection before the GOAWAY reaches them, so whether one saw it is
    // timing; the server's own count of connections it cut is not.
    expect(await shedCount(strict, "streams_per_second")).toBeGreaterThan(0);
    expect(result.streams).toBeGreaterThan(0);
    expect((await probe.check({ service: "" }, { timeoutMs: 5_000 })).status).toBe(ServingStatus.SERVING);
  } finally {
    probe.close();
    await strict.close();
  }
});

/** A client session on `url` that is open once this resolves. */
async function connectedSession(url: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url);
  session.on("error", () => {});
  await new Promise((resolve) => session.once("connect", resolve));
  return session;
}

/** `count` GetTask streams, each reset (CANCEL) right after its HEADERS. */
function resetStreams(session: http2.ClientHttp2Session, count: number): void {
  for (let i = 0; i < count; i++) {
    const req = session.request({ ":method": "POST", ...GET_TASK }, { endStream: false });
    req.on("error", () => {});
    req.close(http2.constants.NGHTTP2_CANCEL);
  }
}

/** A health Watch on `session`, reset (CANCEL) once its first message has come, as a dashboard leaving a page. */
async function watchThenCancel(session: http2.ClientHttp2Session): Promise<void> {
  const req = session.request({ ":method": "POST", ":path": `/${Health.typeName}/Watch`, "content-type": "application/grpc", te: "trailers" });
  req.on("error", () => {});
  req.end(grpcFrame(new Uint8Array(0)));
  await new Promise((resolve, reject) => {
    req.once("data", resolve);
    req.once("close", () => reject(new Error(`the Watch closed before its first answer (RST_STREAM ${req.rstCode}): the connection was cut`)));
  });
  // Closed before the next stream opens, so that the server reads the reset first and counts it, if it did.
  await new Promise((resolve) => req.close(http2.constants.NGHTTP2_CANCEL, () => resolve(undefined)));
}

describe("premature resets (streams the client resets within a second, before they are answered)", () => {
  let guarded: RunningService;
  beforeAll(async () => {
    guarded = await startService({ config: { http2MaxPrematureResets: 20 } });
  });
  afterAll(async () => {
    await guarded.close();
  });

  test("a rapid-reset burst on a fresh connection is cut by the server, and health answers", async () => {
    const before = await shedCount(guarded, "premature_resets");
    const session = await connectedSession(guarded.url);
    const closed = new Promise<number>((resolve) => session.once("close", () => resolve(Date.now())));
    const sent = Date.now();
    resetStreams(session, 200);
    // The client would keep the connection for good: it is the server that ends it.
    const closedAt = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), 5_000))]);
    session.destroy();
    expect(closedAt - sent).toBeLessThan(5_000);
    expect(await shedCount(guarded, "premature_resets")).toBe(before + 1);
    const probe = grpcJsClient(Health, guarded.address);
    try {
      expect((await probe.check({ service: "" }, { timeoutMs: 5_000 })).status).toBe(ServingStatus.SERVING);
    } finally {
      probe.close();
    }
  });

  test("a connection with resets below the limit, or of streams already answered, stays open and serves", async () => {
    const before = await shedCount(guarded, "premature_resets");
    const session = await connectedSession(guarded.url);
    try {
      resetStreams(session, 15);
      // Each reset within a second of its stream's opening, but after the service answered.
      for (let i = 0; i < 40; i++) await watchThenCancel(session);
      const answer = await rawGrpcCall(session, `/${Health.typeName}/Check`, grpcFrame(new Uint8Array(0)));
      expect(answer.trailers["grpc-status"] ?? answer.headers["grpc-status"]).toBe("0");
      expect(session.closed || session.destroyed).toBe(false);
      expect(await shedCount(guarded, "premature_resets")).toBe(before);
    } finally {
      session.destroy();
    }
  });
});

test("a connection reaching its lifetime stream limit is closed gracefully: its calls succeed, the client reconnects", async () => {
  const small = await startService({ config: { http2MaxStreamsPerConnection: 5 } });
  const probe = grpcJsClient(Health, small.address);
  try {
    for (let i = 0; i < 20; i++) expect((await probe.check({ service: "" }, { timeoutMs: 5_000 })).status).toBe(ServingStatus.SERVING);
  } finally {
    probe.close();
    await small.close();
  }
});

test("health Watch streams have a limit of their own: RESOURCE_EXHAUSTED above it, a slot again once one ends", async () => {
  const limited = await startService({ config: { maxWatchStreams: 3 } });
  const watchers: WatchingClient[] = [];
  try {
    for (let i = 0; i < 3; i++) watchers.push(await watchingClient(limited.url));
    const refused = await h2Request(
      limited.url,
      { ":path": `/${Health.typeName}/Watch`, "content-type": "application/grpc", te: "trailers" },
      { chunks: [grpcFrame(new Uint8Array(0))] },
    );
    expect(refused.trailers["grpc-status"] ?? refused.headers["grpc-status"]).toBe(String(Code.ResourceExhausted));
    watchers.shift()?.destroy();
    // The server notices the client leaving a moment later; until then the slot is still taken.
    let again: WatchingClient | undefined;
    for (let i = 0; i < 50 && !again; i++) again = await watchingClient(limited.url).catch(() => new Promise<undefined>((r) => setTimeout(r, 100)));
    expect(again).toBeDefined();
    watchers.push(again!);
  } finally {
    for (const w of watchers) w.destroy();
    await limited.close();
  }
});

test("an empty body sent as its own END_STREAM frame is answered, not left waiting (the gate hands on the end)", async () => {
  const listConnectors = { ":path": "/flyteidl2.connector.ConnectorMetadataService/ListConnectors", "content-type": "application/proto" };
  // A request left waiting never ends; an answered one ends in milliseconds. The wait is long because this
  // file runs beside the rest of the suite on a loaded machine, and a failure shows what had arrived.
  const got = await h2Request(svc.url, listConnectors, { chunks: [Buffer.alloc(0)] }, 12_000);
  expect({ closed: got.closed, status: got.status, rstCode: got.rstCode }).toEqual({ closed: true, status: 200, rstCode: undefined });
  const malformed = await h2Request(svc.url, { ...GET_TASK, "content-type": "application/json" }, { chunks: [Buffer.alloc(0)] }, 12_000);
  expect({ closed: malformed.closed, status: malformed.status }).toEqual({ closed: true, status: 400 });
}, 40_000);

/** An HTTP/2 frame: 9-byte header, then the payload. */
function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK literal header field without indexing, new name, no Huffman coding (RFC 7541 §6.2.2). */
const literal = (name: string, value: string) =>
  Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);

test("HEADERS and an empty END_STREAM DATA in the same read: the request is handed on with its end, and answered", async () => {
  // :method POST and :scheme http from HPACK's static table; the rest literal.
  const block = Buffer.concat([
    Buffer.from([0x83, 0x86]),
    literal(":path", "/flyteidl2.connector.ConnectorMetadataService/ListConnectors"),
    literal(":authority", "localhost"),
    literal("content-type", "application/proto"),
  ]);
  const END_STREAM = 0x1;
  const END_HEADERS = 0x4;
  const request = Buffer.concat([H2_PREFACE_AND_SETTINGS, h2Frame(0x1, END_HEADERS, 1, block), h2Frame(0x0, END_STREAM, 1, Buffer.alloc(0))]);
  const got = await rawExchange(svc.port, [request], { waitMs: 2_000 });
  // The server's frames on stream 1: response HEADERS (":status: 200", HPACK static index 8), and an END_STREAM.
  const frames: { type: number; flags: number; stream: number; payload: Buffer }[] = [];
  for (let at = 0; at + 9 <= got.data.length; ) {
    const length = got.data.readUIntBE(at, 3);
    frames.push({
      type: got.data[at + 3]!,
      flags: got.data[at + 4]!,
      stream: got.data.readUInt32BE(at + 5) & 0x7fffffff,
      payload: got.data.subarray(at + 9, at + 9 + length),
    });
    at += 9 + length;
  }
  const onStream = frames.filter((f) => f.stream === 1);
  expect(onStream.find((f) => f.type === 0x1)?.payload[0]).toBe(0x88);
  expect(onStream.some((f) => (f.flags & END_STREAM) !== 0)).toBe(true);
});
