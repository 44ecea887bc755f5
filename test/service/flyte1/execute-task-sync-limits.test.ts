import { status, type ServiceError } from "@grpc/grpc-js";
import { TaskExecution_Phase as Phase } from "#idl1/flyteidl/core/execution_pb.js";
import { SyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import { HashConnector } from "../../../src/connectors/demo/hash-connector.js";
import { createConnectorRegistry } from "../../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";
import { SlowSyncConnector } from "../../fixtures/sync-connectors.js";
import { F1_STRING, f1String, flytekitInputs, flytekitTemplate, executeTaskSync, PROPELLER_METADATA, type Flyte1TaskSpec } from "../../helpers/flyte1-tasks.js";
import { grpcJsClient } from "../../helpers/grpc-js-client.js";

// ExecuteTaskSync learns its task type from the header, after the pipeline admitted the stream; the
// per-connector concurrency and time limits must still apply to it, by that task type.

const slow = new SlowSyncConnector();
let svc: RunningService;
beforeAll(async () => {
  svc = await startService({
    registry: createConnectorRegistry([new HashConnector(), slow]),
    config: { connectorLimits: { slow_sync: { maxConcurrency: 1, timeoutMs: 400 } } },
  });
});
afterAll(async () => {
  await svc.close();
  await svc.registry.close();
});

function sync(spec: Flyte1TaskSpec, timeoutMs = 10_000) {
  const client = grpcJsClient(SyncAgentService, svc.address);
  const messages = [
    {
      part: {
        case: "header" as const,
        value: { template: flytekitTemplate(spec), outputPrefix: "s3://bucket/n0/data/0", taskExecutionMetadata: PROPELLER_METADATA as never },
      },
    },
    { part: { case: "inputs" as const, value: flytekitInputs(spec) } },
  ];
  return executeTaskSync(client.raw, messages, { timeoutMs }).finally(() => client.close());
}

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error("expected ExecuteTaskSync to fail");
}

test("a sync connector past its task type's time limit: DEADLINE_EXCEEDED naming the limit, its signal aborted, its slot given back", async () => {
  const before = slow.aborted;
  const t0 = performance.now();
  const err = await failure(sync({ type: "slow_sync", custom: { ms: 5_000 } }));
  expect(err.code).toBe(status.DEADLINE_EXCEEDED);
  expect(err.details).toContain("slow_sync did not finish within 400 ms");
  // The caller's 10 s deadline did not end it: the connector's limit did.
  expect(performance.now() - t0).toBeLessThan(5_000);
  for (let i = 0; i < 50 && slow.aborted === before; i++) await new Promise((r) => setTimeout(r, 20));
  expect(slow.aborted).toBe(before + 1);
  // The slot came back when the connector returned: the next call runs.
  const [ok] = await sync({ type: "slow_sync", custom: { ms: 10 } });
  expect(ok?.res.case === "header" && ok.res.value.resource?.phase).toBe(Phase.SUCCEEDED);
});

test("a sync connector over its concurrency limit: RESOURCE_EXHAUSTED at once, other task types unaffected", async () => {
  const first = sync({ type: "slow_sync", custom: { ms: 300 } });
  // Let the first call reach the connector before the second asks for a slot.
  await new Promise((r) => setTimeout(r, 150));
  const err = await failure(sync({ type: "slow_sync", custom: { ms: 10 } }));
  expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
  expect(err.details).toContain("too many concurrent calls for task type slow_sync (limit 1)");
  const [hash] = await sync({ type: "hash", inputs: { data: { type: F1_STRING, literal: f1String("x") } }, outputs: { digest: F1_STRING } });
  expect(hash?.res.case === "header" && hash.res.value.resource?.phase).toBe(Phase.SUCCEEDED);
  const [done] = await first;
  expect(done?.res.case === "header" && done.res.value.resource?.phase).toBe(Phase.SUCCEEDED);
});
