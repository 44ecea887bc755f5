import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { builtinConnectors } from "../../src/connectors/builtins.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, FLOAT, floatLiteral, INTEGER, intLiteral, STRING, stringLiteral } from "../support/tasks.js";
import { scrape, valueOf } from "../support/prometheus-text.js";

/**
 * The service keeps no state between calls, so replicas are interchangeable: the executor's channel
 * round-robins over them (dns:/// + round_robin, docs/flyte-executor.md §3.2), and a task created on one is
 * polled, logged and deleted on others. Here two replicas, each with its own registry, serve one grpc-js
 * channel configured as the executor's; then one replica drains away mid-run and the other takes over.
 */
const replicas: RunningService[] = [];
beforeAll(async () => {
  for (let i = 0; i < 2; i++) replicas.push(await startService({ registry: createConnectorRegistry(builtinConnectors()), config: { drainTimeoutMs: 5_000 } }));
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.close()));
});

const created = async (replica: RunningService) =>
  valueOf((await scrape(replica.metricsUrl!)).samples, "grpc_server_handled_total", { grpc_method: "CreateTask", grpc_code: "OK" });
const polled = async (replica: RunningService) =>
  valueOf((await scrape(replica.metricsUrl!)).samples, "grpc_server_handled_total", { grpc_method: "GetTask", grpc_code: "OK" });

test("tasks created through a round-robin channel are polled, logged and deleted on any replica; one replica drains, the other carries on", async () => {
  const target = `ipv4:${replicas.map((r) => r.address).join(",")}`;
  const channel = grpcJsClient(AsyncConnectorService, target, {
    channelOptions: { "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
  });
  const one = grpcJsClient(AsyncConnectorService, replicas[0]!.address);
  const other = grpcJsClient(AsyncConnectorService, replicas[1]!.address);
  try {
    // 1. Round robin: 20 tasks, creates and polls spread over both replicas, every task succeeds.
    const metas: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      metas.push(
        (await channel.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0.2) } } }))).resourceMeta,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
    for (const resourceMeta of metas) {
      const got = await channel.getTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta });
      expect(got.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
    }
    const spread = await Promise.all(replicas.map(async (r) => [await created(r), await polled(r)]));
    console.info(`scale-out: creates per replica ${spread.map(([c]) => c).join(" / ")}, polls per replica ${spread.map(([, p]) => p).join(" / ")}`);
    for (const [c, p] of spread) {
      expect(c).toBeGreaterThanOrEqual(5);
      expect(p).toBeGreaterThanOrEqual(5);
    }

    // 2. Created on one replica, everything else on the other: outputs, logs and delete need nothing from the first.
    const echo = await one.createTask(
      createTaskRequest({
        type: "echo",
        inputs: { n: { type: INTEGER, literal: intLiteral(42) }, s: { type: STRING, literal: stringLiteral("hi") } },
        outputs: { n: INTEGER, s: STRING },
      }),
    );
    const done = await other.getTask({ taskCategory: { name: "echo", version: 0 }, resourceMeta: echo.resourceMeta });
    expect(done.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
    expect(done.resource?.outputs?.literals.map((l) => l.name).sort()).toEqual(["n", "s"]);
    const sleep = await one.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0) } } }));
    const logs = [];
    for await (const part of other.getTaskLogs({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: sleep.resourceMeta, lines: 0n, token: "" }))
      logs.push(part);
    expect(logs[0]?.part.case).toBe("body");
    await expect(other.deleteTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: sleep.resourceMeta })).resolves.toBeDefined();

    // 3. A rolling restart: the first replica drains away; the channel carries on with the second.
    const before = await created(replicas[1]!);
    await replicas[0]!.close();
    for (let i = 0; i < 10; i++) {
      await expect(
        channel.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0) } } }), { timeoutMs: 5_000 }),
      ).resolves.toBeDefined();
    }
    expect((await created(replicas[1]!)) - before).toBe(10);
  } finally {
    channel.close();
    one.close();
    other.close();
  }
}, 60_000);
