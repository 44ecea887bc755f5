import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { builtinConnectors } from "../../src/connectors/builtins.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import {
  Code,
  ConnectError,
  createConnectorClients,
  phaseName,
  PROTOCOLS,
  resourceMetaAsJson,
  RESOURCE_META_FORMS,
  resourceMetaFromText,
  ResourceMetaTextError,
  TaskExecution_Phase,
} from "../../web-client/src/index.js";
import { createTaskRequest, FLOAT, floatLiteral } from "../support/tasks.js";
import { LinkedSleepConnector } from "./fixtures/linked-sleep-connector.js";

let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ registry: createConnectorRegistry([...builtinConnectors(), new LinkedSleepConnector()]) });
});
afterAll(async () => {
  await svc.close();
});

const sleepFor = (seconds: number, type = "sleep") => createTaskRequest({ type, inputs: { seconds: { type: FLOAT, literal: floatLiteral(seconds) } } });

describe.each(PROTOCOLS)("web-client in Node over %s", (protocol) => {
  test("lists connectors and reports health", async () => {
    const clients = createConnectorClients({ baseUrl: svc.url, protocol });
    const connectors = await clients.listConnectors();
    expect(connectors.map((c) => [c.name, c.supportedTaskCategories.map((t) => `${t.name}/${t.version}`)])).toEqual([
      ["Sleep Connector", ["sleep/0"]],
      ["Echo Connector", ["echo/0"]],
      ["PostgreSQL Connector", ["postgres/0"]],
      ["HTTP Job Connector", ["http_job/0"]],
      ["Bigquery Connector", ["bigquery_query_job_task/0"]],
      ["Snowflake Connector", ["snowflake/0"]],
      ["Databricks Connector", ["databricks/0"]],
      ["HTTP Call Connector", ["http_call/0"]],
      ["Hash Connector", ["hash/0"]],
      ["Linked Sleep Connector", ["linked_sleep/0"]],
    ]);
    await expect(clients.servingStatus()).resolves.toBe("SERVING");
    await expect(clients.servingStatus("flyteidl2.connector.AsyncConnectorService")).resolves.toBe("SERVING");
  });

  test("follows a task to SUCCEEDED, then streams its logs across pages", async () => {
    // A base URL with a trailing slash, as people paste them.
    const clients = createConnectorClients({ baseUrl: `${svc.url}/`, protocol });
    const { resourceMeta } = await clients.tasks.createTask(sleepFor(1.1, "linked_sleep"));
    const view = resourceMetaAsJson(resourceMeta);
    expect(view.kind === "json" && view.value).toEqual({ seconds: 1.1, started_at_ms: expect.any(Number) });

    const seen = [];
    for await (const resource of clients.followTask({ name: "linked_sleep" }, resourceMeta, { intervalMs: 200 })) seen.push(resource);
    const phases = seen.map((r) => phaseName(r.phase));
    expect(phases[0]).toBe("RUNNING");
    expect(phases.at(-1)).toBe("SUCCEEDED");
    expect(phases.slice(0, -1).every((p) => p === "RUNNING")).toBe(true);
    expect(seen.at(-1)!.message).toBe("slept 1.1 s");
    expect(seen.at(-1)!.logLinks.map((l) => [l.name, l.uri])).toEqual([["Sleep console", expect.stringMatching(/^https:\/\/console\.example\/sleep\/\d+$/)]]);

    // One line per page forces two GetTaskLogs calls: the client follows the header's token.
    const lines = [];
    for await (const line of clients.streamLogs({ name: "linked_sleep", version: 0 }, resourceMeta, { linesPerPage: 1 })) lines.push(line.message);
    expect(lines).toEqual(["second 1 of 1.1", "done after 1.1 s"]);
  });

  test("sends the configured headers through a custom fetch", async () => {
    const sent: Headers[] = [];
    const clients = createConnectorClients({
      baseUrl: svc.url,
      protocol,
      headers: () => ({ Authorization: "Bearer t0ken" }),
      fetch: (input, init) => {
        sent.push(new Headers(init?.headers));
        return fetch(input, init);
      },
    });
    await clients.listConnectors();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.get("authorization")).toBe("Bearer t0ken");
  });

  test("an unknown task type fails with NotFound; a bad category fails before any call", async () => {
    const clients = createConnectorClients({ baseUrl: svc.url, protocol });
    const err = await clients.tasks.createTask(sleepFor(1, "no_such_type")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toMatch(/no_such_type/);
    const follow = clients.followTask({ name: "no_such_type" }, resourceMetaFromText("{}"));
    await expect(follow.next()).rejects.toMatchObject({ code: Code.NotFound });
    await expect(clients.followTask({ name: "" }, new Uint8Array()).next()).rejects.toThrow(/task category name is required/);
  });

  test("echo has no logs: streamLogs fails with Unimplemented", async () => {
    const clients = createConnectorClients({ baseUrl: svc.url, protocol });
    const { resourceMeta } = await clients.tasks.createTask(createTaskRequest({ type: "echo" }));
    await expect(clients.streamLogs({ name: "echo" }, resourceMeta).next()).rejects.toMatchObject({ code: Code.Unimplemented });
    // Echo is done at once: following it yields one terminal resource.
    const all = [];
    for await (const r of clients.followTask({ name: "echo" }, resourceMeta)) all.push(r.phase);
    expect(all).toEqual([TaskExecution_Phase.SUCCEEDED]);
  });

  test("aborting stops following with Canceled", async () => {
    const clients = createConnectorClients({ baseUrl: svc.url, protocol });
    const { resourceMeta } = await clients.tasks.createTask(sleepFor(60));
    const controller = new AbortController();
    const phases: string[] = [];
    const following = (async () => {
      for await (const r of clients.followTask({ name: "sleep" }, resourceMeta, { intervalMs: 10_000, signal: controller.signal })) {
        phases.push(phaseName(r.phase));
        controller.abort();
      }
    })();
    await expect(following).rejects.toMatchObject({ code: Code.Canceled });
    expect(phases).toEqual(["RUNNING"]);
  });
});

describe("options are checked", () => {
  test("unknown protocol and empty base URL", () => {
    expect(() => createConnectorClients({ baseUrl: svc.url, protocol: "grpc" as never })).toThrow(
      /protocol must be one of grpc-web, connect-json, connect-binary/,
    );
    expect(() => createConnectorClients({ baseUrl: "" })).toThrow(/baseUrl is required/);
  });
});

describe("resource metadata typed or pasted", () => {
  const json = '{"job_id": "abc", "n": 1}';
  const bytes = new TextEncoder().encode(json);
  const base64 = Buffer.from(bytes).toString("base64");

  test.each([
    ["bare base64, as CreateTask's resourceMeta in a Connect JSON answer", base64],
    ["URL-safe base64 without padding", base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")],
    ["base64 with line breaks", `${base64.slice(0, 8)}\n${base64.slice(8)}`],
    ["JSON text, verbatim", json],
    ["base64:<data>", `base64:${base64}`],
    ["any of them with surrounding whitespace", `  ${base64}\n`],
  ])("%s", (_what, text) => {
    expect(new TextDecoder().decode(resourceMetaFromText(text))).toBe(json);
  });

  test.each([
    ["", "no resource metadata"],
    ['{"job_id": ', "looks like JSON but does not parse"],
    ["not base64 or JSON!", "is neither JSON nor base64"],
    ["hello", "is neither JSON nor base64"],
    ["base64:%%%", 'the text after "base64:" is not base64'],
  ])("%j is refused with the forms it takes", (text, says) => {
    expect(() => resourceMetaFromText(text)).toThrow(ResourceMetaTextError);
    expect(() => resourceMetaFromText(text)).toThrow(says);
    expect(() => resourceMetaFromText(text)).toThrow(RESOURCE_META_FORMS);
  });
});

describe("resource metadata as JSON", () => {
  test("JSON text round-trips byte for byte; other bytes show as base64", () => {
    const python = '{"seconds": 1.5, "started_at_ms": 17}';
    const bytes = resourceMetaFromText(python);
    expect(new TextDecoder().decode(bytes)).toBe(python);
    expect(resourceMetaAsJson(bytes)).toEqual({
      kind: "json",
      value: { seconds: 1.5, started_at_ms: 17 },
      text: '{\n  "seconds": 1.5,\n  "started_at_ms": 17\n}',
    });
    const binary = new Uint8Array([0, 255, 1, 128]);
    const view = resourceMetaAsJson(binary);
    expect(view).toEqual({ kind: "binary", base64: "AP8BgA==" });
    expect(resourceMetaFromText(`base64:${view.kind === "binary" ? view.base64 : ""}`)).toEqual(binary);
  });
});
