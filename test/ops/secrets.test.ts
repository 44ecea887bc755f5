import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { REDACTED } from "../../src/service/pipeline/redact.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { PLANTED_SECRET, SecretSpillingConnector } from "../fixtures/ops-connectors.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { createTaskRequest, STRING, stringLiteral } from "../support/tasks.js";
import { captureLogs } from "../support/log-capture.js";
import { scrape } from "../support/prometheus-text.js";
import { createSecretScanner } from "../support/secret-scan.js";
import { startServe } from "../support/cli.js";

/**
 * The planted secret rides in `connection.secrets` of every call, over every client kind, into a connector
 * that tries every way to spill it; and it is the bearer token of a real CLI process. Everything produced
 * (log lines at debug, metric expositions, error messages and resource messages clients received, process
 * output) is searched for it.
 */
const scanner = createSecretScanner();
const logs = captureLogs("debug");
let svc: RunningService;
/** The same connector with the secret in the service's own sources, and calls that carry no secrets. */
let fromFile: RunningService;
let fromEnv: RunningService;
beforeAll(async () => {
  svc = await startService({ registry: createConnectorRegistry([new SecretSpillingConnector()]), log: logs.log });
  const dir = mkdtempSync(join(tmpdir(), "fc-scan-secrets-"));
  writeFileSync(join(dir, "password"), `${PLANTED_SECRET}\n`);
  fromFile = await startService({
    registry: createConnectorRegistry([new SecretSpillingConnector()]),
    log: logs.log,
    config: { secretsDir: dir, secretsEnvPrefix: "" },
  });
  process.env.FC_SCAN_SECRET_PASSWORD = PLANTED_SECRET;
  try {
    fromEnv = await startService({
      registry: createConnectorRegistry([new SecretSpillingConnector()]),
      log: logs.log,
      config: { secretsEnvPrefix: "FC_SCAN_SECRET_" },
    });
  } finally {
    delete process.env.FC_SCAN_SECRET_PASSWORD;
  }
});
afterAll(async () => {
  await svc.close();
  await fromFile.close();
  await fromEnv.close();
});

const secrets = { password: PLANTED_SECRET, other: `prefix-${PLANTED_SECRET}-suffix` };
const category = { name: "spill", version: 0 };
const connection = { taskType: "spill", secrets, configs: {} };
const modeTask = (mode: string) => createTaskRequest({ type: "spill", secrets, inputs: { mode: { type: STRING, literal: stringLiteral(mode) } } });

async function failureOf(p: Promise<unknown>): Promise<{ code: number; text: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; message?: string; details?: string; rawMessage?: string };
    const text = `${err.message ?? ""} ${err.details ?? ""} ${err.rawMessage ?? ""}`;
    scanner.add("error message", text);
    return { code: err.code ?? -1, text };
  }
  throw new Error("expected the call to fail");
}

describe.each(CLIENT_KINDS)("over $name", (kind) => {
  test("errors and resource messages carry [REDACTED], never the secret", async () => {
    const c = kind.make(AsyncConnectorService, svc.url);
    try {
      const thrown = await failureOf(c.client.createTask(modeTask("throw")));
      expect(thrown.code).toBe(Code.Internal);
      expect(thrown.text).toContain(`login failed for password ${REDACTED}`);
      const rpc = await failureOf(c.client.createTask(modeTask("rpc-error")));
      expect(rpc.code).toBe(Code.PermissionDenied);
      expect(rpc.text).toContain(`bad credentials ${REDACTED}`);
      const permanent = await failureOf(c.client.createTask(modeTask("permanent")));
      expect(permanent.code).toBe(Code.Internal);
      const got = await c.client.getTask({ taskCategory: category, resourceMeta: new TextEncoder().encode('{"n": 1}'), connection } as never);
      expect(got.resource?.phase).toBe(TaskExecution_Phase.FAILED);
      scanner.add("resource message", got.resource?.message ?? "");
      expect(got.resource?.message).toBe(`job failed: wrong password ${REDACTED}`);
      const del = await failureOf(c.client.deleteTask({ taskCategory: category, resourceMeta: new TextEncoder().encode('{"n": 1}'), connection } as never));
      expect(del.text).toContain(`cannot delete with ${REDACTED}`);
    } finally {
      c.close();
    }
  });
});

describe.each([
  ["a mounted Secret file", () => fromFile],
  ["the environment", () => fromEnv],
])("the secret from %s, calls without connection secrets", (_, service) => {
  test.each(CLIENT_KINDS.map((k) => [k.name, k] as const))("over %s: errors and resource messages carry [REDACTED]", async (_name, kind) => {
    const c = kind.make(AsyncConnectorService, service().url);
    const bare = (mode: string) => createTaskRequest({ type: "spill", inputs: { mode: { type: STRING, literal: stringLiteral(mode) } } });
    try {
      const thrown = await failureOf(c.client.createTask(bare("throw")));
      expect(thrown.text).toContain(`login failed for password ${REDACTED}`);
      const rpc = await failureOf(c.client.createTask(bare("rpc-error")));
      expect(rpc.text).toContain(`bad credentials ${REDACTED}`);
      const got = await c.client.getTask({ taskCategory: category, resourceMeta: new TextEncoder().encode('{"n": 1}') } as never);
      scanner.add("resource message", got.resource?.message ?? "");
      expect(got.resource?.message).toBe(`job failed: wrong password ${REDACTED}`);
      const del = await failureOf(c.client.deleteTask({ taskCategory: category, resourceMeta: new TextEncoder().encode('{"n": 1}') } as never));
      expect(del.text).toContain(`cannot delete with ${REDACTED}`);
    } finally {
      c.close();
    }
  });
});

test("no log line at debug level and no metric holds the secret; the connector's attempts show up redacted", async () => {
  const meta = CLIENT_KINDS[0]!.make(ConnectorMetadataService, svc.url);
  await meta.client.listConnectors({});
  meta.close();
  for (const s of [svc, fromFile, fromEnv]) scanner.add("metrics exposition", (await scrape(s.metricsUrl!)).text);
  const lines = logs.lines();
  scanner.add("log line", lines);
  // The connector tried: its lines are there, cleaned.
  expect(lines.some((l) => l.includes(`postgres://app:${REDACTED}@db:5432/app`))).toBe(true);
  expect(lines.some((l) => l.includes('"secrets":"[REDACTED]"'))).toBe(true);
  expect(lines.some((l) => l.includes(`app:${REDACTED}@db`) && l.includes("child logger"))).toBe(true);
  expect(lines.some((l) => l.includes(`401 for key ${REDACTED}`))).toBe(true);
  const scan = scanner.scan();
  console.info(`secrets (in-process): scanned ${JSON.stringify(scan.scanned)}, hits: ${scan.hits.length}`);
  expect(scan.hits).toEqual([]);
});

test("a real CLI process with the secret as its bearer token never prints it", async () => {
  const serve = await startServe(["--modules", "./test/fixtures/ops-connectors.ts", "--log-level", "debug"], {
    FLYTE_CONNECT_AUTH_TOKEN: `tok-${PLANTED_SECRET}`,
  });
  const cliScanner = createSecretScanner();
  try {
    const c = CLIENT_KINDS[4]!.make(AsyncConnectorService, serve.url);
    const auth = { headers: { authorization: `Bearer tok-${PLANTED_SECRET}` } };
    try {
      expect((await failureOf(c.client.createTask(modeTask("throw"), auth as never))).code).toBe(Code.Internal);
      expect(
        (await failureOf(c.client.createTask(modeTask("throw"), { headers: { authorization: `Bearer tok-${PLANTED_SECRET}-wrong` } } as never))).code,
      ).toBe(Code.Unauthenticated);
      expect((await failureOf(c.client.createTask(modeTask("throw")))).code).toBe(Code.Unauthenticated);
    } finally {
      c.close();
    }
    cliScanner.add("metrics exposition", await (await fetch(serve.metricsUrl!)).text());
    serve.child.kill("SIGTERM");
    expect(await serve.exited).toBe(0);
  } finally {
    if (serve.child.exitCode === null) serve.child.kill("SIGKILL");
  }
  const out = serve.output().split("\n");
  expect(out.some((l) => l.includes('"auth":true'))).toBe(true);
  cliScanner.add("process output line", out);
  const scan = cliScanner.scan();
  console.info(`secrets (CLI process): scanned ${JSON.stringify(scan.scanned)}, hits: ${scan.hits.length}`);
  expect(scan.hits).toEqual([]);
}, 60_000);
