import { create, toBinary } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/jest";
import { Code } from "@connectrpc/connect";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { CreateTaskRequestSchema, GetTaskRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { builtinConnectors } from "../../src/connectors/builtins.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { FlakyConnector } from "../fixtures/ops-connectors.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { grpcJsClient, type GrpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, FLOAT, floatLiteral, INTEGER, intLiteral, STRING, stringLiteral } from "../support/tasks.js";
import { captureLogs } from "../support/log-capture.js";
import { grpcFrame, h2Request } from "../support/raw-clients.js";

/**
 * Property-based fuzzing of the request paths with fast-check: whatever bytes, content type, path or
 * headers arrive, the service answers with a status from a known set, promptly, and goes on serving.
 * A failure prints fast-check's seed and the shrunk input.
 */
const logs = captureLogs("debug");
let svc: RunningService;
let health: GrpcJsClient<typeof Health>;
beforeAll(async () => {
  svc = await startService({
    registry: createConnectorRegistry([...builtinConnectors(), new FlakyConnector()]),
    log: logs.log,
    config: { maxMessageBytes: 64 * 1024, connectorTimeoutMs: 2_000, requestTimeoutMs: 3_000, headersTimeoutMs: 3_000 },
  });
  health = grpcJsClient(Health, svc.address);
});
afterAll(async () => {
  health.close();
  await svc.close();
});

const PATHS = [
  ...AsyncConnectorService.methods.map((m) => `/${AsyncConnectorService.typeName}/${m.name}`),
  ...ConnectorMetadataService.methods.map((m) => `/${ConnectorMetadataService.typeName}/${m.name}`),
  `/${Health.typeName}/Check`,
  `/${Health.typeName}/Watch`,
];
const CONTENT_TYPES = [
  "application/json",
  "application/proto",
  "application/connect+json",
  "application/connect+proto",
  "application/grpc-web+proto",
  "application/grpc-web+json",
  "application/grpc-web-text",
  "application/grpc",
  "application/grpc+json",
];

const validCreate = toBinary(CreateTaskRequestSchema, createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0) } } }));
const validGet = toBinary(
  GetTaskRequestSchema,
  create(GetTaskRequestSchema, { taskCategory: { name: "sleep", version: 0 }, resourceMeta: new TextEncoder().encode('{"seconds": 1, "started_at_ms": 0}') }),
);

/** Bytes: random, a valid message with flipped bytes, a valid message cut short, or a JSON document. */
const body = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }), base: fc.constantFrom(validCreate, validGet) }).map(({ at, xor, base }) => {
    const out = Uint8Array.from(base);
    out[at % out.length]! ^= xor;
    return out;
  }),
  fc.record({ cut: fc.nat(), base: fc.constantFrom(validCreate, validGet) }).map(({ cut, base }) => base.slice(0, cut % base.length)),
  fc.json({ maxDepth: 4 }).map((j) => new TextEncoder().encode(j)),
);
/** The body as sent: bare, or in a gRPC envelope whose declared length and flags may lie. */
const framed = fc.oneof(
  body,
  fc
    .record({ payload: body, lie: fc.option(fc.nat({ max: 1 << 20 })), flags: fc.constantFrom(0, 0, 1, 0x80, 0xff) })
    .map(({ payload, lie, flags }) => new Uint8Array(grpcFrame(payload, lie ?? payload.length, flags))),
);
const headerValue = fc.stringMatching(/^[\x21-\x7e]{0,40}$/);
const request = fc.record({
  path: fc.oneof(fc.constantFrom(...PATHS), fc.stringMatching(/^\/[A-Za-z0-9._/-]{0,60}$/)),
  contentType: fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerValue),
  body: framed,
  extra: fc.dictionary(
    fc.constantFrom(
      "connect-timeout-ms",
      "grpc-timeout",
      "content-encoding",
      "grpc-encoding",
      "connect-protocol-version",
      "accept-encoding",
      "connect-content-encoding",
    ),
    fc.oneof(headerValue, fc.constantFrom("gzip", "br", "identity", "zstd", "1", "-1", "99999999999", "1S", "5m")),
    { maxKeys: 3 },
  ),
});

/** Statuses the service may answer with over HTTP/1.1 (Connect maps every code to one of these). */
const HTTP_STATUSES = new Set([200, 400, 401, 404, 405, 408, 409, 412, 413, 415, 429, 431, 499, 500, 501, 503, 504, 505]);

let h1Runs = 0;
let h2Runs = 0;

test.prop([request], { numRuns: 1000 })(
  "HTTP/1.1: any path, content type, headers and body get a known status",
  async (r) => {
    h1Runs++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5_000);
    try {
      const res = await fetch(`${svc.url}${r.path}`, {
        method: "POST",
        headers: { "content-type": r.contentType, ...r.extra },
        body: r.body as Uint8Array<ArrayBuffer>,
        signal: controller.signal,
      });
      expect(HTTP_STATUSES).toContain(res.status);
      // A health Watch that parsed is a stream that stays open by design: its status is the answer.
      if (r.path.endsWith("/Watch") && res.status === 200) controller.abort();
      else await res.arrayBuffer();
    } finally {
      clearTimeout(timer);
    }
  },
  60_000,
);

test.prop([request], { numRuns: 600 })(
  "HTTP/2: any path, content type, headers and body get a status or a stream reset, never a hang",
  async (r) => {
    h2Runs++;
    const headers: Record<string, string> = { ":path": r.path || "/", "content-type": r.contentType, te: "trailers" };
    for (const [k, v] of Object.entries(r.extra)) headers[k] = v;
    const watch = r.path.endsWith("/Watch");
    const got = await h2Request(svc.url, headers, { chunks: [Buffer.from(r.body)] }, watch ? 1_000 : 5_000);
    // A health Watch that parsed is a stream that stays open by design.
    if (!watch || got.status !== 200) expect(got.closed).toBe(true);
    if (got.status !== undefined) expect(HTTP_STATUSES).toContain(got.status);
    const grpcStatus = got.trailers["grpc-status"] ?? got.headers["grpc-status"];
    if (grpcStatus !== undefined) expect(Number(grpcStatus)).toBeLessThanOrEqual(16);
  },
  60_000,
);

const literalCase = fc.oneof(
  fc.record({ type: fc.constant(INTEGER), literal: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(intLiteral) }),
  fc.record({ type: fc.constant(FLOAT), literal: fc.double().map(floatLiteral) }),
  fc.record({ type: fc.constant(STRING), literal: fc.string({ maxLength: 50 }).map(stringLiteral) }),
  // A declared type that does not match the literal.
  fc.record({ type: fc.constantFrom(INTEGER, FLOAT, STRING), literal: fc.constantFrom(stringLiteral("x"), intLiteral(1), floatLiteral(0.5)) }),
);

test.prop(
  [
    fc.record({
      type: fc.oneof(fc.constantFrom("sleep", "echo", "flaky"), fc.string({ maxLength: 20 })),
      version: fc.constantFrom(0, 0, 0, 1, 2 ** 31 - 1),
      inputs: fc.dictionary(fc.oneof(fc.constantFrom("seconds", "x", "s"), fc.string({ maxLength: 10 })), literalCase, { maxKeys: 4 }),
      outputs: fc.dictionary(fc.constantFrom("seconds", "x", "s", "y"), fc.constantFrom(INTEGER, FLOAT, STRING), { maxKeys: 3 }),
      secrets: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 30 }), { maxKeys: 2 }),
    }),
  ],
  { numRuns: 300 },
)(
  "well-formed requests with arbitrary content: answered with a client error or OK, INTERNAL only from the flaky connector",
  async (spec) => {
    const kind = CLIENT_KINDS[h1Runs % CLIENT_KINDS.length]!;
    const c = kind.make(AsyncConnectorService, svc.url);
    try {
      const req = createTaskRequest({ type: spec.type, version: spec.version, inputs: spec.inputs, outputs: spec.outputs, secrets: spec.secrets });
      const code = await c.client.createTask(req).then(
        () => 0,
        (e: { code?: number }) => e.code ?? -1,
      );
      const allowed: number[] = [0, Code.InvalidArgument, Code.NotFound];
      if (spec.type === "flaky") allowed.push(Code.Internal);
      expect(allowed).toContain(code);
    } finally {
      c.close();
    }
  },
  60_000,
);

test("after the fuzzing: health and connectors answer, and nothing was logged as a crash", async () => {
  expect((await health.check({ service: "" }, { timeoutMs: 10_000 })).status).toBe(ServingStatus.SERVING);
  const tasks = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    await expect(
      tasks.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0) } } }), { timeoutMs: 10_000 }),
    ).resolves.toBeDefined();
  } finally {
    tasks.close();
  }
  const records = logs.records();
  // Level 50+ is error and fatal: the connector service logs INTERNAL connector failures there (flaky's).
  const crashes = records.filter((r) => (r["level"] as number) >= 50 && r["taskType"] !== "flaky");
  expect(crashes).toEqual([]);
  console.info(`fuzz: ${h1Runs} HTTP/1.1 and ${h2Runs} HTTP/2 raw requests, ${records.length} log lines`);
});
