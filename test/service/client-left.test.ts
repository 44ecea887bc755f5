import { Health } from "../../src/gen/health/v1/health_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { captureLogs } from "../support/log-capture.js";
import { grpcFrame, h2Request } from "../support/raw-clients.js";

/**
 * A client that leaves while its stream is being answered is logged as leaving (debug), never as a handler
 * failure (error): operators alert on error lines. This suite runs the service in jest's realm, as a user's own
 * tests of their connector do with flyte-connect/testing, where connect-node's `instanceof Error` check cannot
 * recognise node's ERR_HTTP2_INVALID_STREAM.
 */
const logs = captureLogs("debug");
let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ log: logs.log });
});
afterAll(async () => {
  await svc.close();
});

const CONTENT_TYPES = [
  "application/connect+json",
  "application/connect+proto",
  "application/grpc-web+proto",
  "application/grpc-web-text",
  "application/grpc",
  "application/grpc+json",
];
const DEADLINES: ReadonlyArray<Record<string, string>> = [{}, { "grpc-timeout": "100m" }, { "connect-timeout-ms": "100" }];

/** A health Watch on its own connection, which the client drops 90–119 ms later, about when a 100 ms deadline ends it. */
async function watchThenLeave(i: number): Promise<void> {
  const contentType = CONTENT_TYPES[i % CONTENT_TYPES.length]!;
  const frame = grpcFrame(contentType.includes("json") ? Buffer.from("{}") : new Uint8Array(0));
  const headers = {
    ":path": `/${Health.typeName}/Watch`,
    "content-type": contentType,
    te: "trailers",
    ...DEADLINES[Math.floor(i / CONTENT_TYPES.length) % DEADLINES.length],
  };
  await h2Request(svc.url, headers, { chunks: [contentType.endsWith("-text") ? Buffer.from(frame.toString("base64")) : frame] }, 90 + ((i * 7) % 30));
}

test("Watch streams whose clients leave mid-answer, in every protocol: logged as the client leaving, not as failures", async () => {
  for (let i = 0; i < 180; i += 6) await Promise.all([0, 1, 2, 3, 4, 5].map((k) => watchThenLeave(i + k)));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const records = logs.records();
  expect(records.filter((r) => (r["level"] as number) >= 50)).toEqual([]);
  // The race was run: some answers were cut off by the client leaving.
  expect(records.filter((r) => r["msg"] === "rpc response not written: the client left").length).toBeGreaterThan(0);
}, 60_000);
