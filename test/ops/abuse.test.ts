import { toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { CreateTaskRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { SleepConnector } from "../../src/connectors/demo/sleep-connector.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { grpcJsClient, type GrpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, FLOAT, floatLiteral, STRING, stringLiteral } from "../support/tasks.js";
import { captureLogs } from "../support/log-capture.js";
import { eventually, grpcFrame, H2_PREFACE_AND_SETTINGS, h2Request, openIdleConnections, rawExchange } from "../support/raw-clients.js";

/**
 * Abuse over real sockets: malformed bodies, wrong content types, truncated frames, garbage instead of a
 * preface, 10 MB bodies, thousands of idle connections, slowloris over HTTP/1.1 and HTTP/2. After each, the
 * service must still answer health and a connector call on a separate, well-behaved connection.
 */
const MiB = 1024 * 1024;
const logs = captureLogs("debug");
let svc: RunningService;
let health: GrpcJsClient<typeof Health>;
let tasks: GrpcJsClient<typeof AsyncConnectorService>;
const CREATE = `/${AsyncConnectorService.typeName}/CreateTask`;
const LIST = `/${ConnectorMetadataService.typeName}/ListConnectors`;

beforeAll(async () => {
  svc = await startService({
    registry: createConnectorRegistry([new SleepConnector()]),
    log: logs.log,
    config: {
      maxMessageBytes: MiB,
      handshakeTimeoutMs: 1_000,
      headersTimeoutMs: 1_000,
      requestTimeoutMs: 2_000,
      keepAliveTimeoutMs: 1_500,
      http2IdleTimeoutMs: 1_500,
      maxConnections: 5_000,
    },
  });
  health = grpcJsClient(Health, svc.address, { channelOptions: { "grpc.keepalive_time_ms": 500 } });
  tasks = grpcJsClient(AsyncConnectorService, svc.address);
});
afterAll(async () => {
  health.close();
  tasks.close();
  await svc.close();
});

/**
 * Health and a real connector call answer on a well-behaved connection, within the executor's 10 s deadline
 * (not a speed check: CI runs other suites beside this one on two cores).
 */
async function stillServing(): Promise<void> {
  expect((await health.check({ service: "" }, { timeoutMs: 10_000 })).status).toBe(ServingStatus.SERVING);
  const created = await tasks.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0) } } }), {
    timeoutMs: 10_000,
  });
  expect(created.resourceMeta.length).toBeGreaterThan(0);
}

const validCreate = Buffer.from(
  toBinary(CreateTaskRequestSchema, createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0) } } })),
);
/** fetch wants a Uint8Array over a plain ArrayBuffer. */
const bytes = (b: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(b);
const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99, 0x00, 0x7a]);

describe("malformed requests are refused with a status, never a crash", () => {
  test("malformed protobuf over gRPC (h2c), gRPC-Web and Connect binary", async () => {
    const grpc = await h2Request(svc.url, { ":path": CREATE, "content-type": "application/grpc", te: "trailers" }, { chunks: [grpcFrame(garbage)] });
    expect(grpc.status).toBe(200);
    // The status is in the trailers, or in the headers of a trailers-only response (the gRPC fast path's errors).
    // INVALID_ARGUMENT on every binary path: the fast path (on by default) and connect's below (docs/errors.md).
    expect(grpc.trailers["grpc-status"] ?? grpc.headers["grpc-status"]).toBe(String(status.INVALID_ARGUMENT));
    expect(decodeURIComponent(String(grpc.trailers["grpc-message"] ?? grpc.headers["grpc-message"]))).toMatch(/^parse binary: /);
    const web = await fetch(`${svc.url}${CREATE}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: bytes(grpcFrame(garbage)),
    });
    expect(web.status).toBe(200);
    expect(Buffer.from(await web.arrayBuffer()).toString("latin1")).toMatch(/grpc-status: ?3\r\n/);
    const connect = await fetch(`${svc.url}${CREATE}`, { method: "POST", headers: { "content-type": "application/proto" }, body: bytes(garbage) });
    expect(connect.status).toBe(400);
    expect(await connect.json()).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^parse binary: /) });
    await stillServing();
  });

  test("malformed and mistyped JSON over Connect and gRPC-Web JSON: INVALID_ARGUMENT", async () => {
    for (const body of ['{"template":', "[1,2,3]", '{"template": 5}', '{"template": {"type": ["x"]}}', '{"no_such_field": 1}', "\u0000\u0001"]) {
      const res = await fetch(`${svc.url}${CREATE}`, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect([res.status, (await res.json()).code]).toEqual([400, "invalid_argument"]);
    }
    const web = await fetch(`${svc.url}${CREATE}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+json" },
      body: bytes(grpcFrame(Buffer.from('{"template": 7}'))),
    });
    expect(Buffer.from(await web.arrayBuffer()).toString("latin1")).toMatch(/grpc-status: ?3/);
    await stillServing();
  });

  test("wrong content types: 415 (Connect, gRPC-Web), 415 over h2 too; unknown paths 404", async () => {
    for (const type of ["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/grpc-web+xml", "application/connect+xml"]) {
      const res = await fetch(`${svc.url}${CREATE}`, { method: "POST", headers: { "content-type": type }, body: bytes(validCreate) });
      expect([type, res.status]).toEqual([type, 415]);
    }
    const none = await fetch(`${svc.url}${CREATE}`, { method: "POST", body: bytes(validCreate) });
    expect([415, 400]).toContain(none.status);
    const h2 = await h2Request(svc.url, { ":path": CREATE, "content-type": "application/grpc+xml", te: "trailers" }, { chunks: [grpcFrame(validCreate)] });
    expect(h2.status).toBe(415);
    expect((await fetch(`${svc.url}/x.Y/Z`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(404);
    await stillServing();
  });

  test("truncated gRPC frames: an envelope that promises more than arrives is refused", async () => {
    // The frame header says 1000 bytes; 9 arrive, then the stream ends.
    const short = await h2Request(svc.url, { ":path": CREATE, "content-type": "application/grpc", te: "trailers" }, { chunks: [grpcFrame(garbage, 1000)] });
    expect(short.trailers["grpc-status"] ?? short.headers["grpc-status"]).not.toBe("0");
    expect(short.closed).toBe(true);
    // Only part of a frame header.
    const header = await h2Request(svc.url, { ":path": CREATE, "content-type": "application/grpc", te: "trailers" }, { chunks: [Buffer.from([0, 0, 0])] });
    expect(header.trailers["grpc-status"] ?? header.headers["grpc-status"]).not.toBe("0");
    // A compressed flag without grpc-encoding, and a frame too big for the limit.
    const flagged = await h2Request(
      svc.url,
      { ":path": CREATE, "content-type": "application/grpc", te: "trailers" },
      { chunks: [grpcFrame(validCreate, validCreate.length, 1)] },
    );
    expect(flagged.trailers["grpc-status"] ?? flagged.headers["grpc-status"]).not.toBe("0");
    const huge = await h2Request(
      svc.url,
      { ":path": CREATE, "content-type": "application/grpc", te: "trailers" },
      { chunks: [grpcFrame(garbage, 0xffffffff)] },
    );
    expect(huge.trailers["grpc-status"] ?? huge.headers["grpc-status"]).toBe(String(status.RESOURCE_EXHAUSTED));
    // gRPC-Web over HTTP/1.1, truncated the same way.
    const web = await fetch(`${svc.url}${CREATE}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: bytes(grpcFrame(garbage, 500)),
    });
    expect(Buffer.from(await web.arrayBuffer()).toString("latin1")).toMatch(/grpc-status: ?(3|13)/);
    await stillServing();
  });

  test("garbage before the HTTP/2 preface, a TLS ClientHello and random bytes on the cleartext port: 400 and closed", async () => {
    for (const bytes of [
      Buffer.concat([Buffer.from("GARBAGE\r\n"), H2_PREFACE_AND_SETTINGS]),
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
      Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 73) % 256)),
      Buffer.from("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"),
    ]) {
      const got = await rawExchange(svc.port, [bytes], { waitMs: 3_000 });
      expect(got.closed).toBe(true);
      expect(got.data.toString("latin1")).toMatch(/^HTTP\/1\.1 400/);
    }
    // A valid preface followed by garbage frames: the HTTP/2 session is torn down with GOAWAY.
    const bad = await rawExchange(
      svc.port,
      [H2_PREFACE_AND_SETTINGS, Buffer.from([0, 0, 8, 0xee, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]), Buffer.alloc(64, 0xab)],
      { waitMs: 3_000 },
    );
    expect(bad.closed).toBe(true);
    await stillServing();
  });

  test("10 MB bodies on every protocol: RESOURCE_EXHAUSTED (429 on Connect), the service unharmed", async () => {
    const big = createTaskRequest({ type: "sleep", inputs: { s: { type: STRING, literal: stringLiteral("x".repeat(10 * MiB)) } } });
    for (const kind of CLIENT_KINDS) {
      const c = kind.make(AsyncConnectorService, svc.url);
      try {
        const err = await c.client.createTask(big).then(
          () => undefined,
          (e: { code?: number; message?: string }) => e,
        );
        // connect-node's HTTP/2 uploads outrun node's per-session memory cap (10 MB): the server resets the
        // stream with ENHANCE_YOUR_CALM before the client reads the status. Refused either way.
        const refused = err?.code === status.RESOURCE_EXHAUSTED || /ENHANCE_YOUR_CALM/.test(err?.message ?? "");
        expect([kind.name, refused, err?.message]).toEqual([kind.name, true, err?.message]);
      } finally {
        c.close();
      }
    }
    const connect = await fetch(`${svc.url}${CREATE}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"outputPrefix": "${"y".repeat(10 * MiB)}"}`,
    });
    expect(connect.status).toBe(429);
    await stillServing();
  });
});

describe("connection abuse", () => {
  test("2000 silent connections: health and connectors keep answering, and every one is closed after the handshake timeout", async () => {
    const idle = await openIdleConnections(svc.port, 2_000);
    try {
      await stillServing();
      expect(await eventually(() => idle.closedCount() === 2_000, 5_000)).toBe(true);
    } finally {
      idle.destroy();
    }
    await stillServing();
  });

  test("1000 idle HTTP/2 sessions and 500 idle keep-alive connections are closed by their idle timeouts", async () => {
    const h2 = await openIdleConnections(svc.port, 1_000, H2_PREFACE_AND_SETTINGS);
    const request = Buffer.from(`POST ${LIST} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    const h1 = await openIdleConnections(svc.port, 500, request);
    try {
      await stillServing();
      expect(await eventually(() => h2.closedCount() === 1_000 && h1.closedCount() === 500, 6_000)).toBe(true);
    } finally {
      h2.destroy();
      h1.destroy();
    }
    await stillServing();
  });

  test("over maxConnections, new connections are closed at once", async () => {
    const small = await startService({ registry: createConnectorRegistry([new SleepConnector()]), config: { maxConnections: 50, handshakeTimeoutMs: 10_000 } });
    try {
      const held = await openIdleConnections(small.port, 80);
      expect(await eventually(() => held.closedCount() >= 30, 2_000)).toBe(true);
      held.destroy();
      const c = grpcJsClient(Health, small.address);
      try {
        expect(await eventually(() => true, 100)).toBe(true);
        expect((await c.check({ service: "" }, { timeoutMs: 10_000 })).status).toBe(ServingStatus.SERVING);
      } finally {
        c.close();
      }
    } finally {
      await small.close();
    }
  });

  test("slowloris over HTTP/1.1: headers trickled one byte at a time are cut (408) by the headers timeout", async () => {
    const head = `POST ${LIST} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: ${"a".repeat(200)}`;
    const slowHead = rawExchange(
      svc.port,
      [...Buffer.from(head)].map((b) => Buffer.from([b])),
      { intervalMs: 50, waitMs: 8_000 },
    );
    await stillServing();
    const got = await slowHead;
    expect(got.closed).toBe(true);
    expect(got.ms).toBeLessThan(4_000);
    expect(got.data.toString("latin1")).toMatch(/^HTTP\/1\.1 408/);
  });

  test("slowloris over HTTP/1.1: a body trickled after complete headers is cut by the request timeout", async () => {
    const head = Buffer.from(`POST ${LIST} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`);
    const slowBody = rawExchange(svc.port, [head, ...Array.from({ length: 100 }, () => Buffer.from(" "))], { intervalMs: 100, waitMs: 9_000 });
    await stillServing();
    const got = await slowBody;
    expect(got.closed).toBe(true);
    expect(got.ms).toBeLessThan(5_000);
  });

  test("slowloris over HTTP/2: a request body trickled frame by frame is reset by the request timeout", async () => {
    const frame = grpcFrame(validCreate);
    const chunks = [...frame].map((b) => Buffer.from([b]));
    const slow = h2Request(svc.url, { ":path": CREATE, "content-type": "application/grpc", te: "trailers" }, { chunks, intervalMs: 100 }, 8_000);
    await stillServing();
    const got = await slow;
    expect(got.closed).toBe(true);
    expect(got.ms).toBeLessThan(4_000);
    expect(got.rstCode ?? Number(got.trailers["grpc-status"] ?? 0)).not.toBe(0);
  });

  test("everything above was logged as refused requests, none as a crash", () => {
    const records = logs.records();
    expect(records.filter((r) => (r["level"] as number) >= 50)).toEqual([]);
    expect(records.filter((r) => r["msg"] === "http request").length).toBeGreaterThan(10);
  });
});
