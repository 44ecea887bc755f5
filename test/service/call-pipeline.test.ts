import { Code, ConnectError } from "@connectrpc/connect";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health } from "../../src/gen/health/v1/health_pb.js";
import { silentLogger } from "../../src/log/logger.js";
import { createAuthCheck } from "../../src/service/pipeline/auth.js";
import { decodedCall } from "../../src/service/pipeline/call-info.js";
import { createCallPipeline } from "../../src/service/pipeline/call-pipeline.js";
import { createConnectorLimiter } from "../../src/service/pipeline/connector-limits.js";
import { createDrain } from "../../src/service/pipeline/drain.js";
import { createLoadShedder } from "../../src/service/pipeline/load-shedder.js";
import { createServiceMetrics } from "../../src/service/pipeline/metrics.js";
import { scrapeRegistry, valueOf } from "../support/prometheus-text.js";

// The call pipeline on its own, as both transports drive it: the order of its refusals, drain, and
// accounting that settles exactly once whatever ends the call. (Over the wire, a drained server's GOAWAY
// keeps new streams from reaching it, so only a race shows UNAVAILABLE there; the SIGTERM suite sees it.)

function pipeline(options: { tokens?: string[]; maxConcurrentCalls?: number; maxConcurrency?: number; timeoutMs?: number } = {}) {
  const metrics = createServiceMetrics({ isKnownTaskType: (n) => n === "sleep", processMetrics: false });
  const drain = createDrain();
  const shedder = createLoadShedder({ maxConcurrentCalls: options.maxConcurrentCalls ?? 0, maxHeapUsedBytes: 0 });
  const limiter = createConnectorLimiter({ maxConcurrency: options.maxConcurrency ?? 0, timeoutMs: options.timeoutMs ?? 0, limits: {} });
  const p = createCallPipeline({ metrics, log: silentLogger(), auth: createAuthCheck(options.tokens ?? []), drain, shedder, limiter });
  return { p, metrics, drain, shedder, limiter };
}

const getTask = () => decodedCall(AsyncConnectorService.method.getTask, { taskCategory: { name: "sleep", version: 0 } }, "grpc", "2.0", undefined);
const check = () => decodedCall(Health.method.check, {}, "grpc", "2.0", undefined);
const list = () => decodedCall(ConnectorMetadataService.method.listConnectors, {}, "grpc", "2.0", undefined);
const codeOf = (f: () => void): Code | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return ConnectError.from(e).code;
  }
};

test("refusals in order: auth first, then drain, then load shedding; health is open and never shed", () => {
  const { p, drain, shedder } = pipeline({ tokens: ["t0ken-value"], maxConcurrentCalls: 1 });
  expect(codeOf(() => p.start(getTask()).admit(null))).toBe(Code.Unauthenticated);
  const held = p.start(getTask());
  held.admit("Bearer t0ken-value");
  expect(codeOf(() => p.start(getTask()).admit("Bearer t0ken-value"))).toBe(Code.ResourceExhausted);
  // ListConnectors and health are never shed.
  expect(codeOf(() => p.start(list()).admit("Bearer t0ken-value"))).toBeUndefined();
  expect(codeOf(() => p.start(check()).admit(null))).toBeUndefined();
  drain.start(60_000);
  expect(codeOf(() => p.start(getTask()).admit(null))).toBe(Code.Unauthenticated);
  expect(codeOf(() => p.start(getTask()).admit("Bearer t0ken-value"))).toBe(Code.Unavailable);
  expect(codeOf(() => p.start(check()).admit(null))).toBeUndefined();
  held.end();
  expect(shedder.inFlight).toBe(0);
  drain.finish();
  shedder.stop();
});

test("a call settles once, whichever comes first: answer, error or the client leaving", async () => {
  const { p, metrics, shedder, limiter } = pipeline({ maxConcurrency: 5 });
  const call = p.start(getTask());
  call.admit(null);
  expect(shedder.inFlight).toBe(1);
  expect(limiter.running("sleep")).toBe(1);
  let release: () => void = () => {};
  const pending = call.run(() => new Promise<string>((resolve) => (release = () => resolve("late"))));
  // The client leaves: the signal aborts (built now, already aborted), the accounting settles at once.
  const gone = new ConnectError("the client went away", Code.Canceled);
  call.abort(gone);
  call.end(gone);
  expect(call.settled).toBe(true);
  expect(call.signal.aborted).toBe(true);
  expect(call.signal.reason).toBe(gone);
  expect(shedder.inFlight).toBe(0);
  // The connector has not returned: its slot is held until it does.
  expect(limiter.running("sleep")).toBe(1);
  release();
  // Without a deadline nothing races the handler: its late answer arrives, and the transport drops it.
  await expect(pending).resolves.toBe("late");
  await new Promise((r) => setImmediate(r));
  expect(limiter.running("sleep")).toBe(0);
  // Ending again counts nothing twice.
  call.end();
  const samples = await scrapeRegistry(metrics.registry);
  expect(valueOf(samples, "grpc_server_handled_total", { grpc_method: "GetTask" })).toBe(1);
  expect(valueOf(samples, "grpc_server_handled_total", { grpc_method: "GetTask", grpc_code: "Canceled" })).toBe(1);
  expect(valueOf(samples, "flyte_connector_requests_in_flight")).toBe(0);
  shedder.stop();
});

test("the connector's time limit answers DEADLINE_EXCEEDED and aborts the signal; a call that finishes in time is not aborted", async () => {
  const { p, shedder } = pipeline({ timeoutMs: 50 });
  const call = p.start(getTask());
  call.admit(null);
  const started = Date.now();
  await expect(call.run(() => new Promise(() => {}))).rejects.toMatchObject({
    code: Code.DeadlineExceeded,
    rawMessage: "GetTask for task type sleep did not finish within 50 ms",
  });
  expect(Date.now() - started).toBeLessThan(2_000);
  expect(call.aborted).toBe(true);
  call.end(call.reason);
  const quick = p.start(getTask());
  quick.admit(null);
  await quick.run(() => Promise.resolve("ok"));
  quick.end();
  // Its timer was cleared at the end: it never aborts.
  await new Promise((r) => setTimeout(r, 80));
  expect(quick.aborted).toBe(false);
  shedder.stop();
});

test("a client deadline beyond what a timer holds is clamped, not fired at once", async () => {
  const { p, shedder } = pipeline();
  const call = p.start(check(), { deadlineMs: 2 ** 31 + 5 });
  call.admit(null);
  await expect(call.run(() => new Promise((r) => setTimeout(() => r("ok"), 30)))).resolves.toBe("ok");
  call.end();
  shedder.stop();
});
