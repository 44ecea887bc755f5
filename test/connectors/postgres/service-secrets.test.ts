import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { PostgresConnector } from "../../../src/connectors/postgres/postgres-connector.js";
import { createLogger } from "../../../src/log/logger.js";
import { createConnectorRegistry } from "../../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";
import { grpcJsClient } from "../../helpers/grpc-js-client.js";
import { startPostgres, type PostgresServer } from "../../helpers/postgres.js";
import { pollTask, valuesFromOutputs } from "../../support/task-polling.js";
import { createTaskRequest, INTEGER } from "../../support/tasks.js";

/**
 * The open-source Flyte 2 executor resolves no secrets, so a PostgreSQL task declares none: its template
 * and connection carry host, database and user only, and the password comes from the service's own
 * sources — a mounted Secret directory, or the environment. The password never appears in what the service
 * writes, even when a query fails with it in the message.
 */
const CATEGORY = { name: "postgres", version: 0 };
let db: PostgresServer;
const logs = new PassThrough();
let logText = "";
logs.on("data", (d: Buffer) => (logText += d.toString()));

beforeAll(async () => {
  db = await startPostgres();
});
afterAll(async () => {
  await db?.stop();
});

let runs = 0;
function taskWithoutSecrets(query: string, configs: Record<string, string>) {
  const request = createTaskRequest({ type: "postgres", outputs: { n: INTEGER }, custom: { query }, configs });
  request.taskExecutionMetadata!.taskExecutionId!.nodeExecutionId!.executionId!.name = `secrets-${process.pid}-${++runs}`;
  expect(request.connection?.secrets).toEqual({});
  return request;
}

async function runWith(svc: RunningService, configs: Record<string, string>): Promise<void> {
  const client = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    const created = await client.createTask(taskWithoutSecrets("SELECT 41 + 1 AS n", configs), { timeoutMs: 10_000 });
    const { resource } = await pollTask(client, created.resourceMeta, { category: CATEGORY, connection: { configs, secrets: {} } });
    expect(resource.message).toContain("query succeeded");
    expect(resource.phase).toBe(TaskExecution_Phase.SUCCEEDED);
    expect(valuesFromOutputs(resource.outputs, { n: INTEGER })).toEqual({ n: 42n });
    // A query whose error message quotes the password: the message the user sees has it redacted.
    const leaking = await client.createTask(taskWithoutSecrets(`SELECT ('x' || '${db.password}')::int AS n`, configs), { timeoutMs: 10_000 });
    const failed = await pollTask(client, leaking.resourceMeta, { category: CATEGORY, connection: { configs, secrets: {} } });
    expect(failed.resource.phase).toBe(TaskExecution_Phase.FAILED);
    expect(failed.resource.message).toContain("[REDACTED]");
    expect(failed.resource.message).not.toContain(db.password);
  } finally {
    client.close();
  }
}

const baseConfigs = () => {
  const { configs } = db.connection();
  const { password: _omit, ...rest } = configs;
  return rest;
};

test("the password from a mounted Secret file (secretsDir)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fc-pg-secret-"));
  writeFileSync(join(dir, "password"), `${db.password}\n`);
  const connector = new PostgresConnector();
  const svc = await startService({
    registry: createConnectorRegistry([connector]),
    config: { secretsDir: dir, secretsEnvPrefix: "" },
    log: createLogger({ level: "debug", destination: logs }),
  });
  try {
    await runWith(svc, baseConfigs());
  } finally {
    await svc.close();
    await connector.close();
  }
  expect(logText).not.toContain(db.password);
});

test("the password from the environment, under a secret name the task chooses (password_secret)", async () => {
  process.env.FLYTE_CONNECT_SECRET_ANALYTICS_DB_PASSWORD = db.password;
  const connector = new PostgresConnector();
  try {
    const svc = await startService({ registry: createConnectorRegistry([connector]), log: createLogger({ level: "debug", destination: logs }) });
    try {
      await runWith(svc, { ...baseConfigs(), password_secret: "analytics-db-password" });
    } finally {
      await svc.close();
    }
  } finally {
    delete process.env.FLYTE_CONNECT_SECRET_ANALYTICS_DB_PASSWORD;
    await connector.close();
  }
  expect(logText).not.toContain(db.password);
});

test("without any source the task fails with PostgreSQL's password error, not a crash", async () => {
  const connector = new PostgresConnector();
  const svc = await startService({ registry: createConnectorRegistry([connector]), config: { secretsEnvPrefix: "" } });
  const client = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    const created = await client.createTask(taskWithoutSecrets("SELECT 1 AS n", baseConfigs()), { timeoutMs: 10_000 });
    const { resource } = await pollTask(client, created.resourceMeta, { category: CATEGORY, connection: { configs: baseConfigs(), secrets: {} } });
    expect(resource.phase).toBe(TaskExecution_Phase.FAILED);
    expect(resource.message).toMatch(/password/i);
  } finally {
    client.close();
    await svc.close();
    await connector.close();
  }
});
