import * as http from "node:http";
import * as http2 from "node:http2";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health } from "../../src/gen/health/v1/health_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";
import { largeMapCreate } from "../support/large-requests.js";
import { grpcFrame, rawGrpcCall } from "../support/raw-clients.js";

/**
 * The sliced decode on connect's binary paths (gRPC with the fast path off, gRPC-Web, Connect binary): a
 * ~12 MB CreateTask is read and decoded ahead of connect in slices, so health (here on connect's path too)
 * answers again and again while it is decoded. Before, connect decoded it in one go inside its handler.
 * And the large-request gate counts bodies sent without content-length there too (gRPC clients on HTTP/2).
 */
const MiB = 1024 * 1024;
const CREATE = `/${AsyncConnectorService.typeName}/CreateTask`;
let svc: RunningService;
beforeAll(async () => {
  // Requests of up to 16 MiB, as an operator who raised the 4 MiB default allows.
  // Decoded on the event loop, in slices: the large-request worker, which takes them off it, is off here.
  svc = await startService({ config: { grpcFastPath: false, largeRequestBytes: MiB, maxMessageBytes: 16 * MiB, largeRequestWorker: false } });
});
afterAll(async () => {
  await svc.close();
});

interface LargeCall {
  /** Set once the whole body has been handed to the socket. */
  readonly uploaded: () => boolean;
  readonly done: () => boolean;
  /** The status the caller's protocol reports: a gRPC code, or Connect's error JSON code, and the message. */
  readonly answer: Promise<{ code: string; message: string }>;
}

function grpcCall(body: Uint8Array): LargeCall {
  let uploaded = false;
  let done = false;
  const session = http2.connect(svc.url);
  session.on("error", () => {});
  const stream = session.request({ ":method": "POST", ":path": CREATE, "content-type": "application/grpc", te: "trailers" });
  stream.on("error", () => {});
  const answer = new Promise<{ code: string; message: string }>((resolve) => {
    let status = { code: "", message: "" };
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) status = { code: String(h["grpc-status"]), message: decodeURIComponent(String(h["grpc-message"] ?? "")) };
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("close", () => {
      done = true;
      session.destroy();
      resolve(status);
    });
    stream.resume();
  });
  stream.end(grpcFrame(body), () => {
    uploaded = true;
  });
  return { uploaded: () => uploaded, done: () => done, answer };
}

function http1Call(contentType: string, body: Uint8Array): LargeCall {
  let uploaded = false;
  let done = false;
  const url = new URL(svc.url);
  const answer = new Promise<{ code: string; message: string }>((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: "POST", path: CREATE, headers: { "content-type": contentType, "content-length": body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          done = true;
          const text = Buffer.concat(chunks).toString("latin1");
          if (contentType === "application/proto") {
            resolve(res.statusCode === 200 ? { code: "ok", message: "" } : (JSON.parse(text) as { code: string; message: string }));
          } else {
            const code = res.headers["grpc-status"] ?? /grpc-status:\s*(\d+)/.exec(text)?.[1] ?? "";
            const message = res.headers["grpc-message"] ?? /grpc-message:\s*([^\r\n]*)/.exec(text)?.[1] ?? "";
            resolve({ code: String(code), message: decodeURIComponent(String(message)) });
          }
        });
      },
    );
    req.on("error", reject);
    req.end(body, () => {
      uploaded = true;
    });
  });
  return { uploaded: () => uploaded, done: () => done, answer };
}

const bytes = largeMapCreate(250_000);

test.each([
  ["gRPC (fast path off)", "3", () => grpcCall(bytes)],
  ["gRPC-Web", "3", () => http1Call("application/grpc-web+proto", grpcFrame(bytes))],
  ["Connect binary", "invalid_argument", () => http1Call("application/proto", bytes)],
])(
  "health Check answers while a ~12 MB CreateTask is decoded: %s",
  async (name, invalidArgument, start) => {
    expect(bytes.length).toBeGreaterThan(11 * MiB);
    const health = grpcJsClient(Health, new URL(svc.url).host);
    await health.check({ service: "" }, { timeoutMs: 5_000 }); // channel up before the large call
    const large = start();
    const latencies: number[] = [];
    let answeredWhileDecoding = 0;
    while (!large.done()) {
      const started = performance.now();
      const startedAfterUpload = large.uploaded();
      const answer = await health.check({ service: "" }, { timeoutMs: 30_000 });
      expect(answer.status).toBeDefined();
      latencies.push(performance.now() - started);
      if (startedAfterUpload && !large.done()) answeredWhileDecoding++;
      await new Promise((r) => setTimeout(r, 20));
    }
    health.close();
    // Decoded whole and handed on: the sleep task declares no input `m`.
    const answer = await large.answer;
    expect(answer.code).toBe(invalidArgument);
    expect(answer.message).not.toMatch(/parse binary/);
    console.log(`${name}: ${answer.message}`);
    // A decode in one go (connect's fromBinary) lets at most one check straddle it.
    expect(answeredWhileDecoding).toBeGreaterThanOrEqual(3);
    const max = Math.max(...latencies);
    console.log(
      `health during a ${(bytes.length / MiB).toFixed(1)} MiB CreateTask over ${name}: ${latencies.length} checks, ${answeredWhileDecoding} after the upload, max ${max.toFixed(0)} ms, median ${latencies.sort((a, b) => a - b)[latencies.length >> 1]!.toFixed(0)} ms`,
    );
  },
  120_000,
);

test("with the fast path off, a large gRPC body without content-length is gated once its length is known", async () => {
  const gated = await startService({ config: { grpcFastPath: false, largeRequestBytes: MiB, maxConcurrentLargeRequests: 1, maxMessageBytes: 16 * MiB } });
  const sessions: http2.ClientHttp2Session[] = [];
  const session = () => {
    const s = http2.connect(gated.url);
    s.on("error", () => {});
    sessions.push(s);
    return s;
  };
  const large = grpcFrame(largeMapCreate(30_000));
  expect(large.length).toBeGreaterThan(MiB);
  try {
    // The slot is held by a body that arrives only in part: the envelope declares 4 MiB, 1 MiB is sent.
    const held = session().request({ ":method": "POST", ":path": CREATE, "content-type": "application/grpc", te: "trailers" });
    held.on("error", () => {});
    await new Promise<void>((resolve) => held.write(grpcFrame(Buffer.alloc(MiB), 4 * MiB), () => setTimeout(resolve, 200)));
    const refused = await rawGrpcCall(session(), CREATE, large);
    const status = { ...refused.headers, ...refused.trailers };
    expect(status["grpc-status"]).toBe("8");
    expect(decodeURIComponent(status["grpc-message"] ?? "")).toMatch(/busy with other large requests/);
    // A small call is not a large one.
    const small = await rawGrpcCall(session(), `/${Health.typeName}/Check`, grpcFrame(new Uint8Array(0)));
    expect({ ...small.headers, ...small.trailers }["grpc-status"]).toBe("0");
    held.close(http2.constants.NGHTTP2_CANCEL);
    // The slot comes back once the held call is gone: the next large call is decoded and reaches the connector.
    let code = "8";
    for (let i = 0; i < 50 && code === "8"; i++) {
      const next = await rawGrpcCall(session(), CREATE, large);
      code = { ...next.headers, ...next.trailers }["grpc-status"] ?? "";
      if (code === "8") await new Promise((r) => setTimeout(r, 100));
    }
    expect(code).toBe("3"); // the sleep task declares no input `m`
    const exposition = await (await fetch(gated.metricsUrl!)).text();
    expect(Number(/^flyte_connect_calls_shed_total\{reason="large_requests"\} (\d+)/m.exec(exposition)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
  } finally {
    for (const s of sessions) s.destroy();
    await gated.close();
  }
}, 60_000);
