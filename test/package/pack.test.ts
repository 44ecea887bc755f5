import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { curl, curlConnect } from "../helpers/curl.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import { readmeTypeScriptBlocks } from "../helpers/readme-snippets.js";
import { createTaskRequest, INTEGER, intLiteral, STRING, stringLiteral } from "../support/tasks.js";

// A connector author's path, outside this repository and with only npm: pack the package, install the tarball
// into a new project, `flyte-connect init` a connector project, compile it (tsc, strict, declarations), run
// its own test, serve it by its package name, and drive a task over Connect JSON (curl) and gRPC (grpc-js).
// Packing uses the tree as built (`npm ci` builds it); `npm pack`'s own prepare would rebuild dist/ and
// vendor/ under the other suites running beside this one.

const ROOT = resolve(__dirname, "../..");
const run = promisify(execFile);
jest.setTimeout(600_000);

/** The packed tarball's budget: what runs, nothing else (the issue found 587 files and 8.4 MB). */
const BUDGET = { packedBytes: 1_500_000, unpackedBytes: 6_500_000, files: 650 };

/** npm as a user runs it: without the npm_* variables of an `npm test` this may run under. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));
}

async function sh(cmd: string, args: readonly string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, [...args], { cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${err.stdout ?? ""}\n${err.stderr ?? err.message}`);
  }
}

interface PackResult {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

let work: string;
let tarball: string;
let packed: PackResult;

beforeAll(async () => {
  work = realpathSync(mkdtempSync(join(tmpdir(), "fc-pack-")));
  const { stdout } = await sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], ROOT);
  packed = (JSON.parse(stdout) as PackResult[])[0]!;
  tarball = join(work, packed.filename);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the tarball holds exactly what runs, within its budget", () => {
  const paths = packed.files.map((f) => f.path);
  const allowed = [
    /^package\.json$/,
    /^README\.md$/,
    /^LICENSE$/,
    /^dist\//,
    /^vendor\/flyteidl2?\//,
    /^web-client\/dist\/dashboard\//,
    /^templates\/connector\//,
  ];
  expect(paths.filter((p) => !allowed.some((a) => a.test(p)))).toEqual([]);
  expect(paths.filter((p) => p.endsWith(".map") || /^(src|test|bench|\.ci|examples|docs|deploy|scripts)\//.test(p))).toEqual([]);
  for (const needed of [
    "dist/index.js",
    "dist/index.d.ts",
    "dist/server.d.ts",
    "dist/testing.d.ts",
    "dist/bin/flyte-connect.mjs",
    "dist/gen/health/v1/health_pb.js",
    "vendor/flyteidl2/package.json",
    "vendor/flyteidl2/flyteidl2/core/types_pb.js",
    "vendor/flyteidl2/flyteidl2/core/types_pb.d.ts",
    "vendor/flyteidl/flyteidl/service/agent_pb.js",
    "web-client/dist/dashboard/index.html",
    "web-client/dist/dashboard/dashboard.js",
    "templates/connector/package.template.json",
    "templates/connector/src/connector.ts",
    "templates/connector/_gitignore",
    "LICENSE",
  ]) {
    expect(paths).toContain(needed);
  }
  console.log(`tarball: ${packed.entryCount} files, ${(packed.size / 1e6).toFixed(2)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked`);
  expect(packed.entryCount).toBeLessThanOrEqual(BUDGET.files);
  expect(packed.size).toBeLessThanOrEqual(BUDGET.packedBytes);
  expect(packed.unpackedSize).toBeLessThanOrEqual(BUDGET.unpackedBytes);
});

test("installed from the tarball: init, compile, test, serve by package name, and a task over curl and grpc-js", async () => {
  // A project that installs flyte-connect, and so has `npx flyte-connect`.
  const host = join(work, "host");
  await sh("mkdir", ["-p", host], work);
  writeFileSync(join(host, "package.json"), JSON.stringify({ name: "host", version: "0.0.0", private: true, type: "module" }));
  await sh("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], host);

  // ESM import, and what CommonJS gets (require() of an ES module, or import()).
  const esm = await sh(
    "node",
    [
      "--input-type=module",
      "-e",
      'const fc = await import("flyte-connect"); const t = await import("flyte-connect/testing"); console.log(typeof fc.AsyncConnector, typeof t.startService)',
    ],
    host,
  );
  expect(esm.stdout.trim()).toBe("function function");
  writeFileSync(join(host, "cjs.cjs"), 'import("flyte-connect").then((fc) => console.log(typeof fc.defineInterface));\n');
  expect((await sh("node", ["cjs.cjs"], host)).stdout.trim()).toBe("function");

  const init = await sh("npx", ["--no-install", "flyte-connect", "init", "acme-word-count", "--dependency", `file:${tarball}`], host);
  expect(init.stdout).toContain("src/connector.ts");
  const project = join(host, "acme-word-count");
  const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as { name: string; dependencies: Record<string, string> };
  expect(pkg.name).toBe("acme-word-count");
  expect(pkg.dependencies["flyte-connect"]).toBe(`file:${tarball}`);
  expect(readFileSync(join(project, "README.md"), "utf8")).toContain('task_type="acme_word_count"');

  await sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], project);
  // The README's other TypeScript snippets, verbatim, beside the project's connector: they compile outside
  // the repository, against the installed package (its connector snippet is the scaffold's own file).
  const connectorSource = readFileSync(resolve(ROOT, "templates/connector/src/connector.ts"), "utf8").trim();
  const snippets = readmeTypeScriptBlocks(readFileSync(resolve(ROOT, "README.md"), "utf8")).filter((b) => b !== connectorSource);
  expect(snippets.length).toBeGreaterThanOrEqual(2);
  for (const [i, b] of snippets.entries()) writeFileSync(join(project, "src", `readme-snippet-${i}.ts`), `${b}\nexport {};\n`);
  // Strict, declaration: true (the project's tsconfig), and our declarations checked as well (no skipLibCheck).
  await sh("npx", ["--no-install", "tsc", "-p", ".", "--skipLibCheck", "false"], project);
  expect(readFileSync(join(project, "dist/connector.d.ts"), "utf8")).toContain('readonly outputTypes: import("flyte-connect").OutputTypes;');
  const tested = await sh("npm", ["test"], project);
  expect(tested.stdout).toMatch(/# pass 3\b/);
  expect(tested.stdout).toMatch(/# fail 0\b/);

  // Served by its package name, from its folder, as `npm start` does.
  // The bin itself, not through npx: a signal then reaches the service, and nothing outlives the test.
  const serve = spawn(
    join(project, "node_modules/.bin/flyte-connect"),
    ["serve", "--modules", "acme-word-count", "--no-builtins", "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0"],
    {
      cwd: project,
      env: npmEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  serve.stdout.on("data", (d: Buffer) => (out += d.toString()));
  serve.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => serve.on("exit", (code) => r(code)));
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`not serving after 60 s:\n${out}`)), 60_000);
      serve.stdout.on("data", () => {
        const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolveUrl(m[1]!);
        }
      });
      void exited.then((code) => reject(new Error(`exited ${code} before serving:\n${out}`)));
    });
    expect(out).toMatch(/│ Acme Word Count Connector\s+│ acme_word_count \(0\)\s+│/);
    // The dashboard's assets came with the package.
    expect((await curl([`${url}/`])).status).toBe(200);
    expect((await curl([`${url}/dashboard/dashboard.js`])).status).toBe(200);

    const request = createTaskRequest({
      type: "acme_word_count",
      inputs: { text: { type: STRING, literal: stringLiteral("the quick brown fox jumps") }, min_length: { type: INTEGER, literal: intLiteral(4) } },
    });
    // Connect JSON with curl, as a script calls it.
    const created = await curlConnect(url, "/flyteidl2.connector.AsyncConnectorService/CreateTask", {
      template: {
        type: "acme_word_count",
        interface: {
          inputs: {
            variables: [
              { key: "min_length", value: { type: { simple: "INTEGER" } } },
              { key: "text", value: { type: { simple: "STRING" } } },
            ],
          },
        },
      },
      inputs: {
        literals: [
          { name: "text", value: { scalar: { primitive: { stringValue: "the quick brown fox jumps" } } } },
          { name: "min_length", value: { scalar: { primitive: { integer: "4" } } } },
        ],
      },
    });
    expect(created.status).toBe(200);
    const { resourceMeta } = JSON.parse(created.body) as { resourceMeta: string };
    const got = await curlConnect(url, "/flyteidl2.connector.AsyncConnectorService/GetTask", { taskCategory: { name: "acme_word_count" }, resourceMeta });
    expect(JSON.parse(got.body).resource).toMatchObject({ phase: "SUCCEEDED", message: "3 words" });

    // gRPC with grpc-js, as the executor calls it.
    const client = grpcJsClient(AsyncConnectorService, new URL(url).host);
    try {
      const made = await client.createTask(request);
      const polled = await client.getTask({ taskCategory: { name: "acme_word_count", version: 0 }, resourceMeta: made.resourceMeta });
      expect(polled.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
      expect(polled.resource?.outputs?.literals.map((l) => l.name)).toEqual(["count", "longest"]);
      const missing = createTaskRequest({ type: "acme_word_count", inputs: { text: { type: STRING, literal: stringLiteral("x") } } });
      const refused = await grpcStatusOf(client.createTask(missing));
      expect(refused.code).toBe(3);
      expect(refused.details).toContain("input 'min_length'");
    } finally {
      client.close();
    }
  } finally {
    serve.kill("SIGTERM");
    await exited;
  }
});
