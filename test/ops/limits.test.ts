import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Code } from "@connectrpc/connect";
import { status } from "@grpc/grpc-js";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { SleepConnector } from "../../src/connectors/demo/sleep-connector.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { HangingUntilAbortConnector, HoardingConnector, SlowConnector, StubbornConnector } from "../fixtures/ops-connectors.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import { createTaskRequest, FLOAT, floatLiteral, INTEGER, intLiteral } from "../support/tasks.js";
import { scrape, valueOf } from "../support/prometheus-text.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const slowTask = (ms: number) => createTaskRequest({ type: "slow", inputs: { ms: { type: INTEGER, literal: intLiteral(ms) } } });
const sleepTask = createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(1) } } });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 0,
    (e: { code?: number }) => e.code ?? -1,
  );

describe("per-connector limits", () => {
  const hanging = new HangingUntilAbortConnector();
  const stubborn = new StubbornConnector(1200);
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({
      registry: createConnectorRegistry([new SleepConnector(), new SlowConnector(), hanging, stubborn]),
      config: {
        connectorTimeoutMs: 5_000,
        connectorLimits: { slow: { maxConcurrency: 2 }, hang: { timeoutMs: 300 }, stubborn: { maxConcurrency: 1, timeoutMs: 200 } },
      },
    });
  });
  afterAll(async () => {
    await svc.close();
  });

  test("over a task type's concurrency limit: RESOURCE_EXHAUSTED at once, other task types unaffected", async () => {
    const client = grpcJsClient(AsyncConnectorService, svc.address);
    try {
      const running = [client.createTask(slowTask(800)), client.createTask(slowTask(800))];
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      const third = await grpcStatusOf(client.createTask(slowTask(800)));
      expect(third).toEqual({ code: status.RESOURCE_EXHAUSTED, details: "too many concurrent calls for task type slow (limit 2)" });
      expect(Date.now() - started).toBeLessThan(500);
      // Another connector is served while slow is full.
      await expect(client.createTask(sleepTask)).resolves.toBeDefined();
      await Promise.all(running);
      // The slots came back.
      await expect(client.createTask(slowTask(10))).resolves.toBeDefined();
      const { samples } = await scrape(svc.metricsUrl!);
      expect(valueOf(samples, "flyte_connect_calls_shed_total", { reason: "connector_concurrency" })).toBe(1);
      expect(valueOf(samples, "flyte_connector_requests_failure_total", { task_type: "slow", operation: "create", error_code: "429" })).toBe(1);
    } finally {
      client.close();
    }
  });

  test.each(CLIENT_KINDS)("$name without a deadline: the time limit aborts the connector and answers DEADLINE_EXCEEDED", async (kind) => {
    const c = kind.make(AsyncConnectorService, svc.url);
    const aborts = hanging.aborts.length;
    try {
      const started = Date.now();
      const err = await c.client.createTask(createTaskRequest({ type: "hang" })).then(
        () => undefined,
        (e: unknown) => e as { code: number; message: string },
      );
      const took = Date.now() - started;
      expect(err?.code).toBe(Code.DeadlineExceeded);
      expect(err?.message).toMatch(/CreateTask for task type hang did not finish within 300 ms/);
      expect(took).toBeGreaterThanOrEqual(280);
      expect(took).toBeLessThan(3000);
      expect(hanging.aborts.length).toBe(aborts + 1);
      expect(String(hanging.aborts.at(-1))).toMatch(/did not finish within 300 ms/);
    } finally {
      c.close();
    }
  });

  test("a caller's shorter deadline still wins over the time limit", async () => {
    const client = grpcJsClient(AsyncConnectorService, svc.address);
    try {
      const started = Date.now();
      expect(
        (
          await grpcStatusOf(
            client.getTask({ taskCategory: { name: "hang", version: 0 }, resourceMeta: new TextEncoder().encode('{"n": 1}') }, { timeoutMs: 100 }),
          )
        ).code,
      ).toBe(status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(290);
    } finally {
      client.close();
    }
  });

  test("a connector that ignores its signal is answered at the time limit, and keeps its slot until it returns", async () => {
    const client = grpcJsClient(AsyncConnectorService, svc.address);
    try {
      const started = Date.now();
      expect((await grpcStatusOf(client.createTask(createTaskRequest({ type: "stubborn" })))).code).toBe(status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(1000);
      // Still running inside: its only slot is taken.
      expect((await grpcStatusOf(client.createTask(createTaskRequest({ type: "stubborn" })))).code).toBe(status.RESOURCE_EXHAUSTED);
      const finished = stubborn.finished;
      for (let i = 0; i < 40 && stubborn.finished === finished; i++) await new Promise((r) => setTimeout(r, 50));
      expect(stubborn.finished).toBe(finished + 1);
      // Returned: the slot is free again (and the call times out again, as it should).
      expect((await grpcStatusOf(client.createTask(createTaskRequest({ type: "stubborn" })))).code).toBe(status.DEADLINE_EXCEEDED);
    } finally {
      client.close();
    }
  });
});

describe("load shedding", () => {
  test("over maxConcurrentCalls: RESOURCE_EXHAUSTED; health and ListConnectors keep answering, health SERVING again after", async () => {
    const svc = await startService({ registry: createConnectorRegistry([new SlowConnector(), new SleepConnector()]), config: { maxConcurrentCalls: 3 } });
    const tasks = grpcJsClient(AsyncConnectorService, svc.address);
    const meta = grpcJsClient(ConnectorMetadataService, svc.address);
    const health = grpcJsClient(Health, svc.address);
    try {
      const running = [0, 1, 2].map(() => tasks.createTask(slowTask(700)));
      await new Promise((r) => setTimeout(r, 150));
      expect(await grpcStatusOf(tasks.createTask(sleepTask))).toEqual({
        code: status.RESOURCE_EXHAUSTED,
        details: "server is at its limit of 3 concurrent calls",
      });
      // Health answers; while every slot is taken it may say NOT_SERVING (readiness, test/ops/readiness.test.ts).
      expect([ServingStatus.SERVING, ServingStatus.NOT_SERVING]).toContain((await health.check({ service: "" })).status);
      expect((await meta.listConnectors({})).connectors).toHaveLength(2);
      await Promise.all(running);
      await expect(tasks.createTask(sleepTask)).resolves.toBeDefined();
      let back = ServingStatus.NOT_SERVING;
      for (let i = 0; i < 100 && back !== ServingStatus.SERVING; i++) {
        back = (await health.check({ service: "" })).status;
        if (back !== ServingStatus.SERVING) await new Promise((r) => setTimeout(r, 50));
      }
      expect(back).toBe(ServingStatus.SERVING);
      const { samples } = await scrape(svc.metricsUrl!);
      expect(valueOf(samples, "flyte_connect_calls_shed_total", { reason: "max_concurrent_calls" })).toBe(1);
    } finally {
      tasks.close();
      meta.close();
      health.close();
      await svc.close();
    }
  });

  test("heap above maxHeapUsedBytes: new calls get UNAVAILABLE until memory comes back; health keeps answering", async () => {
    gc();
    const baseline = getHeapStatistics().used_heap_size;
    const hoarding = new HoardingConnector(16, 1_500);
    const svc = await startService({
      registry: createConnectorRegistry([hoarding, new SleepConnector()]),
      config: { maxHeapUsedBytes: baseline + 64 * 1024 * 1024 },
    });
    const tasks = CLIENT_KINDS.find((k) => k.name === "connect-node Connect binary (h2c)")!.make(AsyncConnectorService, svc.url);
    const health = grpcJsClient(Health, svc.address);
    try {
      const codes: number[] = [];
      const calls: Promise<number>[] = [];
      // Each call holds 16 MB for 1.5 s: within a few calls the heap is over the limit.
      for (let i = 0; i < 12; i++) {
        calls.push(codeOf(tasks.client.createTask(createTaskRequest({ type: "hoard" }))));
        await new Promise((r) => setTimeout(r, 120));
      }
      codes.push(...(await Promise.all(calls)));
      expect(codes).toContain(0);
      expect(codes).toContain(Code.Unavailable);
      expect(codes.every((c) => c === 0 || c === Code.Unavailable)).toBe(true);
      expect((await health.check({ service: "" })).status).toBe(ServingStatus.SERVING);
      // Once the hoards are released and collected, calls are served again.
      expect(hoarding.holding).toBe(0);
      gc();
      await new Promise((r) => setTimeout(r, 250));
      expect(await codeOf(tasks.client.createTask(sleepTask))).toBe(0);
      const { samples } = await scrape(svc.metricsUrl!);
      expect(valueOf(samples, "flyte_connect_calls_shed_total", { reason: "heap" })).toBe(codes.filter((c) => c === Code.Unavailable).length);
      console.info(`heap shedding: ${codes.filter((c) => c === 0).length} served, ${codes.filter((c) => c !== 0).length} UNAVAILABLE of ${codes.length}`);
    } finally {
      tasks.close();
      health.close();
      await svc.close();
    }
  });

  test("Connect callers see HTTP 429 for a refused call", async () => {
    const svc = await startService({ registry: createConnectorRegistry([new SlowConnector()]), config: { maxConcurrentCalls: 1 } });
    try {
      const url = `${svc.url}/${AsyncConnectorService.typeName}/CreateTask`;
      const body = JSON.stringify({ template: { type: "slow", interface: {} } });
      const first = fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      await new Promise((r) => setTimeout(r, 80));
      const second = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(second.status).toBe(429);
      expect((await first).status).toBe(200);
    } finally {
      await svc.close();
    }
  });
});
