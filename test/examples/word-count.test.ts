import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { status } from "@grpc/grpc-js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { projectNames } from "../../src/cli/init-command.js";
import { outputTypesOf, valuesFromOutputs } from "../../src/literals/convert.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService } from "../../src/testing/start-service.js";
import { connectors } from "../../templates/connector/src/connector.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import { readmeTypeScriptBlocks } from "../helpers/readme-snippets.js";
import { createTaskRequest, INTEGER, intLiteral, STRING, stringLiteral } from "../support/tasks.js";

// The README's connector is the scaffold's (`flyte-connect init` writes templates/connector), and every
// TypeScript snippet of the README compiles. The pack test compiles them again against the installed package.

const ROOT = resolve(__dirname, "../..");
const CONNECTOR = readFileSync(resolve(ROOT, "templates/connector/src/connector.ts"), "utf8").trim();

test("the README shows the scaffold's connector verbatim, and the template is written with the names of a project called word-count", () => {
  const blocks = readmeTypeScriptBlocks(readFileSync(resolve(ROOT, "README.md"), "utf8"));
  expect(blocks).toContain(CONNECTOR);
  expect(projectNames("word-count")).toEqual({
    packageName: "word-count",
    taskType: "word_count",
    pascal: "WordCount",
    camel: "wordCount",
    title: "Word Count",
  });
  expect(projectNames("@acme/jobs-connector")).toEqual({ packageName: "@acme/jobs-connector", taskType: "jobs", pascal: "Jobs", camel: "jobs", title: "Jobs" });
});

test("every TypeScript snippet of the README compiles (strict, NodeNext, declarations)", async () => {
  const dir = resolve(ROOT, ".tmp/readme-snippets");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const blocks = readmeTypeScriptBlocks(readFileSync(resolve(ROOT, "README.md"), "utf8"));
  writeFileSync(join(dir, "connector.ts"), `${CONNECTOR}\n`);
  for (const [i, b] of blocks.filter((x) => x !== CONNECTOR).entries()) writeFileSync(join(dir, `snippet-${i}.ts`), `${b}\nexport {};\n`);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        declaration: true,
        noEmit: false,
        emitDeclarationOnly: true,
        outDir: "out",
        rootDir: ROOT,
        skipLibCheck: true,
        types: ["node"],
        // Outside the repository these are the installed package's exports.
        paths: {
          "flyte-connect": [resolve(ROOT, "src/index.ts")],
          "flyte-connect/server": [resolve(ROOT, "src/server.ts")],
          "flyte-connect/testing": [resolve(ROOT, "src/testing.ts")],
          "flyte-connect/idl/*": [resolve(ROOT, "vendor/flyteidl2/*")],
        },
      },
      include: ["*.ts"],
    }),
  );
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  await promisify(execFile)(process.execPath, [resolve(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: ROOT }).catch((e: { stdout?: string }) => {
    throw new Error(`README snippets do not compile:\n${e.stdout}`);
  });
}, 120_000);

test("the scaffold's connector runs through the real service", async () => {
  const svc = await startService({ registry: createConnectorRegistry(connectors) });
  const client = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    const request = createTaskRequest({
      type: "word_count",
      inputs: { text: { type: STRING, literal: stringLiteral("the quick brown fox jumps") }, min_length: { type: INTEGER, literal: intLiteral(4) } },
      outputs: { count: INTEGER, longest: STRING },
    });
    const created = await client.createTask(request);
    const got = await client.getTask({ taskCategory: { name: "word_count", version: 0 }, resourceMeta: created.resourceMeta });
    expect(got.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
    expect(valuesFromOutputs(got.resource?.outputs, outputTypesOf(request.template?.interface))).toEqual({ count: 3n, longest: "quick" });

    const negative = createTaskRequest({
      type: "word_count",
      inputs: { text: { type: STRING, literal: stringLiteral("a") }, min_length: { type: INTEGER, literal: intLiteral(-1) } },
    });
    expect(await grpcStatusOf(client.createTask(negative))).toEqual({ code: status.INVALID_ARGUMENT, details: "min_length must not be negative" });
  } finally {
    client.close();
    await svc.close();
  }
});
