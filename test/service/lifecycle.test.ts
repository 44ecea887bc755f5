import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { SleepConnector } from "../../src/connectors/demo/sleep-connector.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { createTaskRequest, FLOAT, floatLiteral } from "../support/tasks.js";

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc.close();
});

const TERMINAL = new Set([TaskExecution_Phase.SUCCEEDED, TaskExecution_Phase.FAILED, TaskExecution_Phase.RETRYABLE_FAILED, TaskExecution_Phase.ABORTED]);

describe.each(CLIENT_KINDS)("whole lifecycle over $name", (kind) => {
  test("list, get connector, create, poll to SUCCEEDED, stream logs, delete twice", async () => {
    const meta = kind.make(ConnectorMetadataService, svc.url);
    const tasks = kind.make(AsyncConnectorService, svc.url);
    try {
      const list = await meta.client.listConnectors({});
      expect(list.connectors.map((c) => [c.name, c.supportedTaskCategories.map((t) => `${t.name}/${t.version}`)])).toEqual([
        ["Sleep Connector", ["sleep/0"]],
        ["Echo Connector", ["echo/0"]],
        ["PostgreSQL Connector", ["postgres/0"]],
        ["HTTP Job Connector", ["http_job/0"]],
        ["Bigquery Connector", ["bigquery_query_job_task/0"]],
        ["Snowflake Connector", ["snowflake/0"]],
        ["Databricks Connector", ["databricks/0"]],
        ["HTTP Call Connector", ["http_call/0"]],
        ["Hash Connector", ["hash/0"]],
      ]);
      const one = await meta.client.getConnector({ name: "Sleep Connector" });
      expect(one.connector?.supportedTaskCategories.map((t) => t.name)).toEqual(["sleep"]);

      const created = await tasks.client.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(1.2) } } }));
      // The metadata is Python-style JSON: readable by the Python service too.
      expect(new TextDecoder().decode(created.resourceMeta)).toMatch(/^\{"seconds": 1\.2, "started_at_ms": \d+\}$/);

      const category = { name: "sleep", version: 0 };
      const phases: TaskExecution_Phase[] = [];
      for (let i = 0; i < 100; i++) {
        const got = await tasks.client.getTask({ taskCategory: category, resourceMeta: created.resourceMeta, outputPrefix: "s3://b/x" });
        phases.push(got.resource!.phase);
        if (TERMINAL.has(got.resource!.phase)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(phases[0]).toBe(TaskExecution_Phase.RUNNING);
      expect(phases.at(-1)).toBe(TaskExecution_Phase.SUCCEEDED);

      // Two pages of one line each: body, header(token), then the second call's body with no header.
      const first = [];
      for await (const part of tasks.client.getTaskLogs({ taskCategory: category, resourceMeta: created.resourceMeta, lines: 1n, token: "" })) first.push(part);
      expect(first.map((p) => p.part.case)).toEqual(["body", "header"]);
      expect(first[0]!.part.case === "body" && first[0]!.part.value.lines.map((l) => l.message)).toEqual(["second 1 of 1.2"]);
      const token = first[1]!.part.case === "header" ? first[1]!.part.value.token : "";
      const second = [];
      for await (const part of tasks.client.getTaskLogs({ taskCategory: category, resourceMeta: created.resourceMeta, lines: 1n, token })) second.push(part);
      expect(second.map((p) => p.part.case)).toEqual(["body"]);
      expect(second[0]!.part.case === "body" && second[0]!.part.value.lines.map((l) => l.message)).toEqual(["done after 1.2 s"]);

      // The executor deletes on abort, on retry and an hour after the end: always OK.
      await expect(tasks.client.deleteTask({ taskCategory: category, resourceMeta: created.resourceMeta })).resolves.toBeDefined();
      await expect(tasks.client.deleteTask({ taskCategory: category, resourceMeta: created.resourceMeta })).resolves.toBeDefined();
    } finally {
      meta.close();
      tasks.close();
    }
  });
});

test("a connector registered while the service runs is listed at once, over every client", async () => {
  const late: SleepConnector & { name: string; taskTypeName: string } = Object.assign(new SleepConnector(), { name: "Late Connector", taskTypeName: "late" });
  svc.registry.register(late);
  for (const kind of CLIENT_KINDS) {
    const meta = kind.make(ConnectorMetadataService, svc.url);
    try {
      const list = await meta.client.listConnectors({});
      expect(list.connectors.at(-1)).toMatchObject({ name: "Late Connector", supportedTaskCategories: [{ name: "late", version: 0 }] });
    } finally {
      meta.close();
    }
  }
});
