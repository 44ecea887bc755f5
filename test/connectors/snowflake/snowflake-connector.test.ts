import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import type { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import type { LiteralTypeSchema } from "#idl/flyteidl2/core/types_pb.js";
import * as grpc from "@grpc/grpc-js";
import { SnowflakeConnector } from "../../../src/connectors/snowflake/snowflake-connector.js";
import { grpcStatusOf } from "../../helpers/grpc-js-client.js";
import { FLOAT, INTEGER, STRING, floatLiteral, intLiteral, stringLiteral } from "../../support/tasks.js";
import {
  DATAFRAME,
  pollWith,
  pythonDatasetLiteralJson,
  resultsLiteralJson,
  sqlTaskRequest,
  startWarehouseService,
  type WarehouseService,
} from "../../helpers/warehouse-service.js";
import { startSnowflakeServer, type SnowflakeServer } from "./snowflake-server.js";

type LiteralTypeInit = MessageInitShape<typeof LiteralTypeSchema>;
type LiteralInit = MessageInitShape<typeof LiteralSchema>;

const CATEGORY = { name: "snowflake", version: 0 };
const listOf = (t: LiteralTypeInit): LiteralTypeInit => ({ type: { case: "collectionType", value: t } });
const list = (items: LiteralInit[]): LiteralInit => ({ value: { case: "collection", value: { literals: items } } });

let sf: SnowflakeServer;
let svc: WarehouseService;
let poll: ReturnType<typeof pollWith>;
const secrets = () => ({ snowflake_private_key: sf.encryptedPrivateKeyPem, snowflake_private_key_passphrase: sf.passphrase });

beforeAll(async () => {
  sf = await startSnowflakeServer();
  svc = await startWarehouseService(new SnowflakeConnector({ baseUrl: sf.url, callBudget: { budgetMs: 2000, requestTimeoutMs: 500 } }));
  poll = pollWith(svc, { category: CATEGORY, connection: { configs: {}, secrets: secrets() } });
});

afterAll(async () => {
  await svc?.close();
  await sf?.close();
});

/** The `custom` the Python `Snowflake` task writes (SnowflakeConfig + connection_kwargs + secrets names). */
function snowflakeTask(
  statement: string,
  options: {
    inputs?: Parameters<typeof sqlTaskRequest>[0]["inputs"];
    outputs?: boolean;
    custom?: Record<string, unknown>;
    secrets?: Record<string, string>;
  } = {},
) {
  return sqlTaskRequest({
    type: "snowflake",
    statement,
    inputs: options.inputs ?? {},
    outputs: options.outputs === false ? {} : { results: DATAFRAME },
    custom: {
      account: "myorg-myacct",
      database: "ANALYTICS",
      schema: "PUBLIC",
      warehouse: "COMPUTE_WH",
      user: "FLYTE_SVC",
      connection_kwargs: { role: "ANALYST" },
      secrets: { snowflake_private_key: "SNOWFLAKE_PRIVATE_KEY", snowflake_private_key_passphrase: "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE" },
      ...options.custom,
    },
    secrets: options.secrets ?? secrets(),
  });
}

const deleteTask = (meta: Uint8Array) =>
  svc.client.deleteTask({ taskCategory: CATEGORY, resourceMeta: meta, connection: { secrets: secrets(), configs: {} } }, { timeoutMs: 10_000 });
const queryIdOf = (meta: Uint8Array) => (JSON.parse(new TextDecoder().decode(meta)) as { query_id: string }).query_id;

describe("Snowflake connector through the service, against a local Snowflake SQL API v2", () => {
  test("%(name)s parameters bound server-side: Create → Get until done → Delete twice; the query-id dataset URI and console link", async () => {
    const created = await svc.client.createTask(
      snowflakeTask("SELECT * FROM orders WHERE region = %(region)s AND total > %(min_total)s AND id IN (%(ids)s) AND note LIKE 'x%%'", {
        inputs: {
          region: { type: STRING, literal: stringLiteral("EMEA") },
          min_total: { type: FLOAT, literal: floatLiteral(10.5) },
          ids: { type: listOf(INTEGER), literal: list([intLiteral(1), intLiteral(2)]) },
        },
      }),
      { timeoutMs: 10_000 },
    );
    const queryId = queryIdOf(created.resourceMeta);
    expect(new TextDecoder().decode(created.resourceMeta)).toBe(
      `{"account": "myorg-myacct", "user": "FLYTE_SVC", "database": "ANALYTICS", "schema": "PUBLIC", "warehouse": "COMPUTE_WH", "query_id": "${queryId}", "has_output": true, "connection_kwargs": {"role": "ANALYST"}}`,
    );
    const { resource, phases } = await poll(created.resourceMeta);
    expect(phases).toEqual(["RUNNING", "SUCCEEDED"]);
    expect(resultsLiteralJson(resource)).toEqual(pythonDatasetLiteralJson(`snowflake://FLYTE_SVC/myorg-myacct/COMPUTE_WH/ANALYTICS/PUBLIC/${queryId}`));
    expect(resource.logLinks.map((l) => [l.name, l.uri, l.ready])).toEqual([
      ["Snowflake Dashboard", `https://app.snowflake.com/myorg/myacct/#/compute/history/queries/${queryId}/detail`, true],
    ]);
    const body = sf.statements.get(queryId)!.body;
    // Bindings in the order of the statement's placeholders (the interface lists inputs by name).
    expect(body).toEqual({
      statement: "SELECT * FROM orders WHERE region = ? AND total > ? AND id IN (?, ?) AND note LIKE 'x%'",
      bindings: {
        "1": { type: "TEXT", value: "EMEA" },
        "2": { type: "REAL", value: "10.5" },
        "3": { type: "FIXED", value: "1" },
        "4": { type: "FIXED", value: "2" },
      },
      database: "ANALYTICS",
      schema: "PUBLIC",
      warehouse: "COMPUTE_WH",
      role: "ANALYST",
    });
    await deleteTask(created.resourceMeta);
    await deleteTask(created.resourceMeta);
    expect((await poll(created.resourceMeta)).phases).toEqual(["SUCCEEDED"]);
  });

  test("batch=True expands the VALUES tuple per row, as the Python task does; a task without outputs has none", async () => {
    const created = await svc.client.createTask(
      snowflakeTask("INSERT INTO t (a, b) VALUES (%(a)s, %(b)s)", {
        outputs: false,
        custom: { batch: true },
        inputs: {
          a: { type: listOf(INTEGER), literal: list([intLiteral(1), intLiteral(2), intLiteral(3)]) },
          b: { type: listOf(STRING), literal: list(["x", "y", "z"].map(stringLiteral)) },
        },
      }),
    );
    const { resource, phases } = await poll(created.resourceMeta);
    expect(phases.at(-1)).toBe("SUCCEEDED");
    expect(resource.outputs).toBeUndefined();
    expect(new TextDecoder().decode(created.resourceMeta)).toContain('"has_output": false');
    const body = sf.statements.get(queryIdOf(created.resourceMeta))!.body;
    expect(body["statement"]).toBe("INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)");
    expect(Object.values(body["bindings"] as Record<string, { value: string }>).map((b) => b.value)).toEqual(["1", "x", "2", "y", "3", "z"]);

    const uneven = await grpcStatusOf(
      svc.client.createTask(
        snowflakeTask("INSERT INTO t (a, b) VALUES (%(a)s, %(b)s)", {
          custom: { batch: true },
          inputs: {
            a: { type: listOf(INTEGER), literal: list([intLiteral(1)]) },
            b: { type: listOf(STRING), literal: list([stringLiteral("x"), stringLiteral("y")]) },
          },
        }),
      ),
    );
    expect(uneven.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(uneven.details).toContain("All batch input lists must have the same length.");
  });

  test("failures are FAILED with Snowflake's message: refused at submit (compilation) and while running", async () => {
    const syntax = await svc.client.createTask(snowflakeTask("SYNTAX_ERROR"));
    const s = await poll(syntax.resourceMeta);
    expect(s.phases).toEqual(["FAILED"]);
    expect(s.resource.message).toBe("SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'SYNTAX_ERROR'. (code 001003, SQLSTATE 42000)");
    const runtime = await svc.client.createTask(snowflakeTask("SELECT 1/0 -- DIVIDE_BY_ZERO"));
    const r = await poll(runtime.resourceMeta);
    expect(r.phases).toEqual(["RUNNING", "FAILED"]);
    expect(r.resource.message).toBe("Division by zero (code 100051, SQLSTATE 22012)");
  });

  test("DeleteTask cancels a running statement; it then reads ABORTED; deleting again is fine", async () => {
    const created = await svc.client.createTask(snowflakeTask("SELECT SYSTEM$WAIT(3600) -- RUN_LONG"));
    await poll(created.resourceMeta, (r) => r.phase === TaskExecution_Phase.RUNNING);
    await deleteTask(created.resourceMeta);
    const queryId = queryIdOf(created.resourceMeta);
    expect(sf.statements.get(queryId)!.cancelled).toBe(true);
    const { phases, resource } = await poll(created.resourceMeta);
    expect(phases).toEqual(["ABORTED"]);
    expect(resource.message).toBe("SQL execution canceled (code 000604, SQLSTATE 57014)");
    await deleteTask(created.resourceMeta);
  });

  test("a repeated CreateTask submits the statement once (requestId from the idempotency key)", async () => {
    const request = snowflakeTask("SELECT 2");
    const a = await svc.client.createTask(request);
    const b = await svc.client.createTask(request);
    expect(queryIdOf(b.resourceMeta)).toBe(queryIdOf(a.resourceMeta));
    const submits = sf.requests.filter(
      (r) => r.method === "POST" && r.path === "/api/v2/statements" && r.query.get("requestId") === sf.requests.at(-1)!.query.get("requestId"),
    );
    expect(submits).toHaveLength(2);
    expect(submits.every((r) => r.query.get("async") === "true")).toBe(true);
  });

  test("429 and 503 are retried inside one call, and a hanging answer is given up and retried", async () => {
    const created = await svc.client.createTask(snowflakeTask("SELECT 3"));
    await poll(created.resourceMeta);
    const before = sf.requests.length;
    sf.failNext(1, 429, { code: "390400", message: "Too many requests" });
    sf.failNext(1, 503, { message: "Service Unavailable" });
    sf.hangNext(1);
    expect((await poll(created.resourceMeta)).phases).toEqual(["SUCCEEDED"]);
    expect(sf.requests.length - before).toBe(4);
  });

  test("Snowflake unavailable for the whole budget: RETRYABLE_FAILED; CreateTask and DeleteTask fail so the executor retries", async () => {
    const created = await svc.client.createTask(snowflakeTask("SELECT 4 -- RUN_LONG"));
    sf.failNext(1000, 503, { message: "Service Unavailable" });
    try {
      const down = await poll(created.resourceMeta);
      expect(down.phases).toEqual(["RETRYABLE_FAILED"]);
      expect(down.resource.message).toMatch(
        /^could not read the statement's status: Snowflake at .* is unavailable: GET .* failed \d+ times in [\d.]+ s; last: HTTP 503/,
      );
      const create = await grpcStatusOf(svc.client.createTask(snowflakeTask("SELECT 5")));
      expect(create.code).toBe(grpc.status.INTERNAL);
      svc.saw(create.details);
      expect((await grpcStatusOf(deleteTask(created.resourceMeta))).code).toBe(grpc.status.INTERNAL);
    } finally {
      sf.failNext(0, 503);
    }
    await deleteTask(created.resourceMeta);
  });

  test("a key Snowflake does not know is CreateTask OK and a FAILED task with its message, DeleteTask calls nothing; no key at all names where one is looked for", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const refused = await svc.client.createTask(snowflakeTask("SELECT 6", { secrets: { snowflake_private_key: other } }));
    const stored = JSON.parse(new TextDecoder().decode(refused.resourceMeta)) as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual(["account", "user", "database", "schema", "warehouse", "query_id", "has_output", "connection_kwargs", "failure"]);
    expect(stored["query_id"]).toBe("");
    const before = sf.requests.length;
    const failed = await poll(refused.resourceMeta);
    expect(failed.phases).toEqual(["FAILED"]);
    expect(failed.resource.message).toMatch(/^Snowflake refused the statement: HTTP 401: JWT token is invalid\. \[[0-9a-f-]+\] \(code 390144\)$/);
    expect(failed.resource.message).not.toContain("PRIVATE KEY");
    svc.saw(failed.resource.message);
    await deleteTask(refused.resourceMeta);
    await deleteTask(refused.resourceMeta);
    expect(sf.requests.length).toBe(before);
    const wrong = { details: failed.resource.message };
    const none = await grpcStatusOf(svc.client.createTask(snowflakeTask("SELECT 7", { secrets: {} })));
    expect(none.details).toContain("SNOWFLAKE_PRIVATE_KEY_PATH");
    const badPassphrase = await grpcStatusOf(
      svc.client.createTask(
        snowflakeTask("SELECT 8", { secrets: { snowflake_private_key: sf.encryptedPrivateKeyPem, snowflake_private_key_passphrase: "wrong" } }),
      ),
    );
    expect(badPassphrase.details).toContain("the Snowflake private key cannot be read");
    const noAccount = await grpcStatusOf(svc.client.createTask(snowflakeTask("SELECT 9", { custom: { account: null } })));
    expect(noAccount.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noAccount.details).toContain("Missing Snowflake account");
    for (const s of [wrong, none, badPassphrase, noAccount]) svc.saw(s.details);
  });

  test("without a key in the connection, the service's SNOWFLAKE_PRIVATE_KEY_PATH file is used", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sf-key-"));
    const file = path.join(dir, "rsa_key.p8");
    writeFileSync(file, sf.privateKeyPem, { mode: 0o600 });
    process.env["SNOWFLAKE_PRIVATE_KEY_PATH"] = file;
    try {
      const created = await svc.client.createTask(snowflakeTask("SELECT 10", { secrets: {} }));
      const { phases } = await pollWith(svc, { category: CATEGORY, connection: { configs: {}, secrets: {} } })(created.resourceMeta);
      expect(phases.at(-1)).toBe("SUCCEEDED");
    } finally {
      delete process.env["SNOWFLAKE_PRIVATE_KEY_PATH"];
    }
  });

  test("a statement the Python connector started is polled and cancelled from its metadata", async () => {
    const handle = sf.seedStatement("SELECT * FROM huge -- RUN_LONG");
    const pythonMeta = new TextEncoder().encode(
      `{"account": "myorg-myacct", "user": "FLYTE_SVC", "database": "ANALYTICS", "schema": "PUBLIC", "warehouse": "COMPUTE_WH", "query_id": "${handle}", "has_output": true, "connection_kwargs": {"role": "ANALYST"}}`,
    );
    const running = await poll(pythonMeta, (r) => r.phase === TaskExecution_Phase.RUNNING);
    expect(running.resource.logLinks[0]!.uri).toBe(`https://app.snowflake.com/myorg/myacct/#/compute/history/queries/${handle}/detail`);
    await deleteTask(pythonMeta);
    await deleteTask(pythonMeta);
    expect(sf.statements.get(handle)!.cancelled).toBe(true);
    expect((await poll(pythonMeta)).phases).toEqual(["ABORTED"]);
  });

  test("credentials in connection_kwargs (which Python stores in the metadata) are neither used nor stored", async () => {
    const created = await svc.client.createTask(
      snowflakeTask("SELECT 11", { custom: { connection_kwargs: { role: "ANALYST", password: "hunter2-sf-password" } } }),
    );
    const meta = new TextDecoder().decode(created.resourceMeta);
    expect(meta).toContain('"connection_kwargs": {"role": "ANALYST"}');
    expect(meta).not.toContain("hunter2");
    expect((await poll(created.resourceMeta)).phases.at(-1)).toBe("SUCCEEDED");
    expect(svc.everythingWritten()).not.toContain("hunter2");
  });

  test("no credential reaches the logs, messages or metadata", () => {
    const written = svc.everythingWritten();
    expect(written.length).toBeGreaterThan(1000);
    const keyLines = [sf.privateKeyPem, sf.encryptedPrivateKeyPem].flatMap((pem) => pem.split("\n").slice(2, 6));
    const jwts = [...new Set(sf.requests.map((r) => r.headers.authorization?.slice(7)).filter((t): t is string => !!t))];
    expect(jwts.length).toBeGreaterThan(2);
    for (const secret of [...keyLines, sf.passphrase, ...jwts, ...jwts.map((j) => j.split(".")[2]!)]) expect(written).not.toContain(secret);
  });
});
