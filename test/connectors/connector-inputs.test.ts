import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { toJson } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { CreateTaskRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { create, fromJson } from "@bufbuild/protobuf";
import { TaskTemplateSchema } from "#idl/flyteidl2/core/tasks_pb.js";
import { runCommand } from "../../src/cli/run-command.js";
import { LiteralError } from "../../src/literals/errors.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { runConnector } from "../../src/runner/run-connector.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { curlConnect } from "../helpers/curl.js";
import { grpcJsClient, grpcStatusOf, type GrpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, type TaskSpec, FLOAT, floatLiteral, INTEGER, intLiteral, STRING, stringLiteral } from "../support/tasks.js";
import { CountConnector, ScaleConnector } from "./fixtures/typed-connectors.js";

// Inputs declared with defineInterface are checked at run time against the task's interface, before `create`:
// through the real service (gRPC and Connect JSON) and through the local runner.

const OPTIONAL_STRING = { type: { case: "unionType" as const, value: { variants: [STRING, { type: { case: "simple" as const, value: 0 } }] } } };

let scale: ScaleConnector;
let svc: RunningService;
let client: GrpcJsClient<typeof AsyncConnectorService>;

beforeAll(async () => {
  scale = new ScaleConnector();
  svc = await startService({ registry: createConnectorRegistry([scale, new CountConnector()]) });
  client = grpcJsClient(AsyncConnectorService, svc.address);
});

afterAll(async () => {
  client?.close();
  await svc?.close();
});

const n = (v: number) => ({ type: INTEGER, literal: intLiteral(v) });
const factor = (v: number) => ({ type: FLOAT, literal: floatLiteral(v) });

describe("the service checks a connector's declared inputs before create", () => {
  test("inputs that fit are converted and reach create; a declared Optional input may be left out", async () => {
    const created = await client.createTask(createTaskRequest({ type: "scale", inputs: { n: n(3), factor: factor(1.5) } }));
    const meta = JSON.parse(Buffer.from(created.resourceMeta).toString("utf8"));
    expect(meta).toEqual({ n: "3", scaled: 4.5, label: "(none)" });
    const labelled = await client.createTask(
      createTaskRequest({ type: "scale", inputs: { n: n(2), factor: factor(2), label: { type: OPTIONAL_STRING, literal: stringLiteral("x") } } }),
    );
    expect(JSON.parse(Buffer.from(labelled.resourceMeta).toString("utf8")).label).toBe("x");
  });

  const bad: { what: string; inputs: NonNullable<TaskSpec["inputs"]>; says: string[] }[] = [
    {
      what: "a missing input",
      inputs: { n: n(3) },
      says: ["input 'factor'", "does not declare it", "factor: float"],
    },
    {
      what: "an input of another Flyte type (FLOAT where the connector says int)",
      inputs: { n: { type: FLOAT, literal: floatLiteral(3) }, factor: factor(1) },
      says: ["input 'n'", "the task declares it as FLOAT (Python float)", "takes it as INTEGER (Python int)", "n: int"],
    },
    {
      what: "an extra input",
      inputs: { n: n(3), factor: factor(1), scale: n(2) },
      says: ["input 'scale'", "takes no such input", "it takes factor, label, n"],
    },
    {
      what: "an Optional input where the connector cannot take None",
      inputs: {
        n: {
          type: { type: { case: "unionType" as const, value: { variants: [INTEGER, { type: { case: "simple" as const, value: 0 } }] } } },
          literal: intLiteral(1),
        },
        factor: factor(1),
      },
      says: ["input 'n'", "union<", "n: int"],
    },
  ];

  test.each(bad)("$what is INVALID_ARGUMENT over gRPC, naming the input and the fix; create never runs", async ({ inputs, says }) => {
    const before = scale.creates;
    const got = await grpcStatusOf(client.createTask(createTaskRequest({ type: "scale", inputs })));
    expect(got.code).toBe(status.INVALID_ARGUMENT);
    for (const text of says) expect(got.details).toContain(text);
    expect(scale.creates).toBe(before);
  });

  test.each(bad)("$what is a Connect invalid_argument (HTTP 400) over curl", async ({ inputs, says }) => {
    const body = toJson(CreateTaskRequestSchema, createTaskRequest({ type: "scale", inputs }));
    const res = await curlConnect(svc.url, "/flyteidl2.connector.AsyncConnectorService/CreateTask", body);
    expect(res.status).toBe(400);
    const error = JSON.parse(res.body) as { code: string; message: string };
    expect(error.code).toBe("invalid_argument");
    for (const text of says) expect(error.message).toContain(text);
  });

  test("a connector that sets only outputTypes from defineInterface is checked by that interface's inputs", async () => {
    const got = await grpcStatusOf(client.createTask(createTaskRequest({ type: "count", inputs: { count: { type: FLOAT, literal: floatLiteral(1) } } })));
    expect(got.code).toBe(status.INVALID_ARGUMENT);
    expect(got.details).toContain("input 'count': the task declares it as FLOAT");
    const ok = await client.createTask(createTaskRequest({ type: "count", inputs: { count: n(7) } }));
    expect(JSON.parse(Buffer.from(ok.resourceMeta).toString("utf8"))).toEqual({ count: 7 });
  });

  test("connectors that declare no inputs take any, as before (the built-in echo)", async () => {
    const builtins = await startService();
    const echo = grpcJsClient(AsyncConnectorService, builtins.address);
    try {
      const created = await echo.createTask(createTaskRequest({ type: "echo", inputs: { anything: factor(1), more: n(2) } }));
      expect(created.resourceMeta.length).toBeGreaterThan(0);
    } finally {
      echo.close();
      await builtins.close();
    }
  });
});

describe("the local runner makes the same check", () => {
  const template = (inputs: Record<string, string>) =>
    fromJson(TaskTemplateSchema, {
      type: "scale",
      interface: { inputs: { variables: Object.entries(inputs).map(([key, simple]) => ({ key, value: { type: { simple } } })) } },
    });

  test("runConnector: a missing value, a template of another type and an extra input throw LiteralError naming the input", async () => {
    const connector = new ScaleConnector();
    await expect(runConnector({ connector, template: template({ n: "INTEGER", factor: "FLOAT" }), inputs: { n: 3n } })).rejects.toThrow(
      "input 'factor': is missing",
    );
    await expect(runConnector({ connector, template: template({ n: "FLOAT", factor: "FLOAT" }), inputs: { n: 3, factor: 1 } })).rejects.toThrow(
      /input 'n': the task declares it as FLOAT .* takes it as INTEGER/,
    );
    await expect(runConnector({ connector, template: template({ n: "INTEGER" }), inputs: { n: 3n } })).rejects.toThrow(LiteralError);
    await expect(
      runConnector({ connector, template: template({ n: "INTEGER", factor: "FLOAT", x: "STRING" }), inputs: { n: 1n, factor: 1, x: "" } }),
    ).rejects.toThrow("input 'x': the task declares it, but connector Scale Connector takes no such input");
    expect(connector.creates).toBe(0);
    const ok = await runConnector({ connector, template: template({ n: "INTEGER", factor: "FLOAT" }), inputs: { n: 4n, factor: 0.5 }, pollIntervalMs: 10 });
    expect(ok).toMatchObject({ phase: "SUCCEEDED", outputs: { n: 4n, scaled: 2, label: "(none)" } });
  });

  /** `flyte-connect run` in this process, with its output collected. */
  async function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const sink = (append: (s: string) => void) =>
      new Writable({
        write(chunk, _enc, done) {
          append(String(chunk));
          done();
        },
      });
    const code = await runCommand(
      ["--no-builtins", "--modules", "./test/connectors/fixtures/typed-connectors.ts", "-t", "scale", "--poll-interval", "10ms", ...args],
      {
        env: {},
        stdout: sink((s) => (stdout += s)),
        stderr: sink((s) => (stderr += s)),
        onInterrupt: () => () => undefined,
      },
    );
    return { code, stdout, stderr };
  }

  test("flyte-connect run types JSON inputs by the connector's declaration: an int beyond 2^53 as a string stays exact", async () => {
    const res = await run(["--inputs", '{"n": "9007199254740993", "factor": 1}']);
    expect(res.stderr).toContain("SUCCEEDED");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('"n": 9007199254740993');
  });

  test("flyte-connect run: a JSON number beyond 2^53 is refused with the way to write it", async () => {
    const res = await run(["--inputs", '{"n": 9007199254740993, "factor": 1}']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('input "n": 9007199254740992 is beyond 2^53');
    expect(res.stderr).toContain("write it as a string of digits");
  });

  test.each([
    { what: "a missing input", inputs: '{"n": 1}', says: "input 'factor': is missing" },
    {
      what: "an extra input",
      inputs: '{"n": 1, "factor": 1, "extra": true}',
      says: "input 'extra': the task declares it, but connector Scale Connector takes no such input",
    },
    { what: "a value of another type", inputs: '{"n": "seven", "factor": 1}', says: "input 'n'" },
  ])("flyte-connect run: $what exits 2 naming the input", async ({ inputs, says }) => {
    const res = await run(["--inputs", inputs]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(says);
  });

  test("flyte-connect run: a template that declares another type than the connector exits 2 with INVALID_ARGUMENT", async () => {
    const tpl = create(TaskTemplateSchema, template({ n: "FLOAT", factor: "FLOAT" }));
    const file = join(mkdtempSync(join(tmpdir(), "fc-tpl-")), "template.json");
    writeFileSync(file, JSON.stringify(toJson(TaskTemplateSchema, tpl)));
    const res = await run(["--template", file, "--inputs", '{"n": 1.5, "factor": 1}']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("INVALID_ARGUMENT: input 'n': the task declares it as FLOAT");
  });
});
