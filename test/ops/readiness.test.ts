import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { AsyncConnector, type Resource } from "../../src/connectors/connector.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService } from "../../src/testing/start-service.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";

/**
 * Readiness tells the truth: while the service cannot take connector calls (every in-flight slot taken, or
 * the event loop stalled), gRPC health and /readyz say NOT_SERVING, and SERVING again once it can.
 */

/** A connector whose get waits until the test lets it go: its calls hold their in-flight slots. */
class HeldConnector extends AsyncConnector<{ id: string }> {
  readonly name = "Held";
  readonly taskTypeName = "held";
  private releaseAll: () => void = () => {};
  private gate = new Promise<void>((r) => (this.releaseAll = r));
  async create() {
    return { id: "1" };
  }
  async get(): Promise<Resource> {
    await this.gate;
    return { phase: "SUCCEEDED" };
  }
  async delete() {}
  release() {
    this.releaseAll();
  }
}

async function readyz(metricsUrl: string): Promise<number> {
  return (await fetch(metricsUrl.replace(/\/metrics$/, "/readyz"))).status;
}

async function until(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
}

test("every in-flight slot taken: NOT_SERVING on health and /readyz; SERVING once the calls finish", async () => {
  const held = new HeldConnector();
  const svc = await startService({ registry: createConnectorRegistry([held]), config: { maxConcurrentCalls: 2 } });
  const health = grpcJsClient(Health, svc.address);
  const tasks = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    const calls = [1, 2].map(() =>
      tasks.getTask({ taskCategory: { name: "held", version: 0 }, resourceMeta: new TextEncoder().encode('{"id": "1"}') }, { timeoutMs: 20_000 }),
    );
    expect(await until(async () => (await health.check({ service: "" })).status === ServingStatus.NOT_SERVING, 5_000)).toBe(true);
    expect(await readyz(svc.metricsUrl!)).toBe(503);
    expect((await health.check({ service: AsyncConnectorService.typeName })).status).toBe(ServingStatus.NOT_SERVING);
    held.release();
    await Promise.all(calls);
    expect(await until(async () => (await health.check({ service: "" })).status === ServingStatus.SERVING, 5_000)).toBe(true);
    expect(await readyz(svc.metricsUrl!)).toBe(200);
  } finally {
    held.release();
    health.close();
    tasks.close();
    await svc.close();
  }
});

test("a stalled event loop: NOT_SERVING for a while after the stall, then SERVING", async () => {
  const svc = await startService({ config: { readinessMaxEventLoopDelayMs: 200 } });
  const health = grpcJsClient(Health, svc.address);
  try {
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    // The service runs in this process: a busy second here is a second the service cannot answer.
    const busyUntil = Date.now() + 1_000;
    while (Date.now() < busyUntil) {
      // stall
    }
    expect(await until(async () => (await readyz(svc.metricsUrl!)) === 503, 2_000)).toBe(true);
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
    expect(await until(async () => (await health.check({ service: "" })).status === ServingStatus.SERVING, 10_000)).toBe(true);
    expect(await readyz(svc.metricsUrl!)).toBe(200);
  } finally {
    health.close();
    await svc.close();
  }
});

test("the drain's NOT_SERVING is final: readiness does not turn it back", async () => {
  const svc = await startService({ config: { readinessMaxEventLoopDelayMs: 200, drainTimeoutMs: 1_000 } });
  const busyUntil = Date.now() + 500;
  while (Date.now() < busyUntil) {
    // stall, so that readiness has something to recover from
  }
  await new Promise((r) => setTimeout(r, 400));
  const closing = svc.close();
  expect(svc.server.health.get("")).toBe(ServingStatus.NOT_SERVING);
  await closing;
  expect(svc.server.health.get("")).toBe(ServingStatus.NOT_SERVING);
});
