import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { SleepConnector } from "../../src/connectors/demo/sleep-connector.js";
import { Health } from "../../src/gen/health/v1/health_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { FlakyConnector } from "../fixtures/ops-connectors.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { createTaskRequest, FLOAT, floatLiteral } from "../support/tasks.js";
import { captureLogs, type CapturedLogs } from "../support/log-capture.js";
import { grpcFrame, grpcStatusOfAnswer, rawGrpcCall } from "../support/raw-clients.js";
import * as http2 from "node:http2";

let svc: RunningService;
let logs: CapturedLogs;
beforeAll(async () => {
  logs = captureLogs("debug");
  svc = await startService({ registry: createConnectorRegistry([new SleepConnector(), new FlakyConnector()]), log: logs.log });
});
afterAll(async () => {
  await svc.close();
});

const rpcLines = () => logs.records().filter((r) => r["msg"] === "rpc");
const PROTOCOL_OF: Record<string, string> = { "grpc-js": "grpc", "connect-node gRPC ": "grpc", "gRPC-Web": "grpc-web", Connect: "connect" };
const protocolOf = (kind: string) => Object.entries(PROTOCOL_OF).find(([k]) => kind.includes(k))![1];

describe("one JSON log line per RPC", () => {
  test.each(CLIENT_KINDS)("$name: method, protocol, HTTP version, task type, status code and duration", async (kind) => {
    const c = kind.make(AsyncConnectorService, svc.url);
    const before = rpcLines().length;
    try {
      const created = await c.client.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(5) } } }));
      await c.client.getTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: created.resourceMeta });
      await expect(c.client.getTask({ taskCategory: { name: "nope", version: 0 }, resourceMeta: created.resourceMeta })).rejects.toThrow();
    } finally {
      c.close();
    }
    const lines = rpcLines().slice(before);
    expect(lines).toHaveLength(3);
    const http = kind.name.includes("HTTP/1.1") ? "1.1" : "2.0";
    const protocol = protocolOf(kind.name);
    expect(lines[0]).toMatchObject({
      level: 30,
      service: "flyte-connect",
      rpcService: AsyncConnectorService.typeName,
      method: "CreateTask",
      protocol,
      http,
      taskType: "sleep",
      code: "ok",
    });
    expect(lines[1]).toMatchObject({ level: 30, method: "GetTask", protocol, http, taskType: "sleep", code: "ok" });
    expect(lines[2]).toMatchObject({
      level: 30,
      method: "GetTask",
      protocol,
      taskType: "nope",
      code: "not_found",
      error: "Cannot find connector for task type: nope.",
    });
    for (const line of lines) {
      expect(typeof line["durationMs"]).toBe("number");
      expect(line["time"]).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
  });

  test("a connector failure is logged at warn; health checks at debug; streams when they end", async () => {
    const kind = CLIENT_KINDS[0]!;
    const tasks = kind.make(AsyncConnectorService, svc.url);
    const health = kind.make(Health, svc.url);
    const before = rpcLines().length;
    try {
      await tasks.client.createTask(createTaskRequest({ type: "flaky" })).catch(() => {});
      await tasks.client.createTask(createTaskRequest({ type: "flaky" })).catch(() => {});
      await health.client.check({ service: "" });
      const created = await tasks.client.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0) } } }));
      for await (const _ of tasks.client.getTaskLogs({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: created.resourceMeta, lines: 0n, token: "" }))
        void _;
    } finally {
      tasks.close();
      health.close();
    }
    const lines = rpcLines().slice(before);
    const flaky = lines.filter((l) => l["taskType"] === "flaky");
    expect(flaky.map((l) => [l["level"], l["code"]]).sort()).toEqual([
      [30, "ok"],
      [40, "internal"],
    ]);
    expect(flaky.find((l) => l["code"] === "internal")!["error"]).toBe("failed to create flaky task with error:\n upstream refused the create.");
    expect(lines.find((l) => l["method"] === "Check")).toMatchObject({ level: 20, rpcService: Health.typeName, code: "ok" });
    expect(lines.find((l) => l["method"] === "GetTaskLogs")).toMatchObject({ level: 30, taskType: "sleep", code: "ok" });
  });

  test("at level info, probes and connector listings leave no lines; a failed listing does", async () => {
    const quiet = captureLogs("info");
    const other = await startService({ registry: createConnectorRegistry([new SleepConnector()]), log: quiet.log });
    const health = CLIENT_KINDS[0]!.make(Health, other.url);
    const meta = CLIENT_KINDS[0]!.make(ConnectorMetadataService, other.url);
    try {
      for (let i = 0; i < 5; i++) await health.client.check({ service: "" });
      await meta.client.listConnectors({});
      await meta.client.getConnector({ name: "Sleep Connector" });
      await expect(meta.client.getConnector({ name: "No Such Connector" })).rejects.toThrow();
    } finally {
      health.close();
      meta.close();
      await other.close();
    }
    expect(
      quiet
        .records()
        .filter((r) => r["msg"] === "rpc")
        .map((r) => [r["method"], r["code"]]),
    ).toEqual([["GetConnector", "not_found"]]);
  });

  test("requests that never reach a handler get a line too, without the query string", async () => {
    const before = logs.records().length;
    const url = `${svc.url}/${AsyncConnectorService.typeName}/GetTask`;
    await fetch(url, { method: "POST", headers: { "content-type": "application/proto" }, body: Buffer.from([0xff, 0xff, 0xff]) });
    await fetch(`${url}?message=c2VjcmV0&encoding=json`, { method: "GET" });
    await fetch(`${svc.url}/no.such.Service/Method`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    // A truncated gRPC frame: the header announces 100 bytes, 3 arrive.
    await fetch(url, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: Buffer.from([0, 0, 0, 0, 100, 1, 2, 3]) });
    await new Promise((r) => setTimeout(r, 50));
    const lines = logs
      .records()
      .slice(before)
      .filter((r) => r["msg"] === "http request");
    // Unparseable binary protobuf is INVALID_ARGUMENT (400, docs/errors.md) and never becomes a call; GET is
    // only for methods marked idempotent (405).
    expect(lines.map((l) => [l["path"], l["httpStatus"], l["protocol"]])).toEqual([
      [`/${AsyncConnectorService.typeName}/GetTask`, 400, "connect"],
      [`/${AsyncConnectorService.typeName}/GetTask`, 405, "connect"],
      ["/no.such.Service/Method", 404, "connect"],
      [`/${AsyncConnectorService.typeName}/GetTask`, 200, "grpc-web"],
    ]);
    expect(JSON.stringify(lines)).not.toContain("c2VjcmV0");
  });

  test("the gRPC fast path logs the requests it refuses before the pipeline, with their status", async () => {
    const before = logs.records().length;
    const session = http2.connect(svc.url);
    try {
      const path = `/${AsyncConnectorService.typeName}/GetTask`;
      const badTimeout = await rawGrpcCall(session, path, grpcFrame(new Uint8Array()), { "grpc-timeout": "soon" });
      const garbage = await rawGrpcCall(session, path, grpcFrame(Buffer.from([0xff, 0xff, 0xff])));
      expect([grpcStatusOfAnswer(badTimeout)["grpc-status"], grpcStatusOfAnswer(garbage)["grpc-status"]]).toEqual(["3", "3"]);
    } finally {
      session.close();
    }
    const lines = logs
      .records()
      .slice(before)
      .filter((r) => r["msg"] === "http request");
    expect(lines.map((l) => [l["path"], l["protocol"], l["http"], l["code"], l["level"]])).toEqual([
      [`/${AsyncConnectorService.typeName}/GetTask`, "grpc", "2.0", "invalid_argument", 30],
      [`/${AsyncConnectorService.typeName}/GetTask`, "grpc", "2.0", "invalid_argument", 30],
    ]);
    expect(lines[0]!["error"]).toBe("protocol error: invalid grpc timeout value: soon");
    expect(String(lines[1]!["error"])).toMatch(/^parse binary: /);
    expect(typeof lines[0]!["durationMs"]).toBe("number");
  });
});
