import * as http from "node:http";
import * as http2 from "node:http2";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health } from "../../src/gen/health/v1/health_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";
import { largeMapCreate } from "../support/large-requests.js";
import { grpcFrame } from "../support/raw-clients.js";

/**
 * The sliced decode on connect's binary paths (gRPC with the fast path off, gRPC-Web, Connect binary): a
 * ~12 MB CreateTask is read and decoded ahead of connect in slices, so health (here on connect's path too)
 * answers again and again while it is decoded. Before, connect decoded it in one go inside its handler.
 */
const MiB = 1024 * 1024;
const CREATE = `/${AsyncConnectorService.typeName}/CreateTask`;
let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ config: { grpcFastPath: false, largeRequestBytes: MiB } });
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
