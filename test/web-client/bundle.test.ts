import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { emitClientTypes } from "../../web-client/scripts/client-types.js";
import { bundleClientLibrary, LIBRARY_EXTERNALS, measureBundleSizes } from "../../web-client/scripts/web-bundles.js";
import { ROOT_DIR } from "../../web-client/scripts/web-paths.js";
import { BUILTIN_CONNECTOR_NAMES } from "../support/builtin-connectors.js";

// Inside the repository, so that the built files resolve @connectrpc/* and @bufbuild/* from its node_modules.
const OUT = path.join(ROOT_DIR, ".tmp", `web-client-bundle-${process.pid}`);

beforeAll(() => mkdirSync(OUT, { recursive: true }));
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe("the built library", () => {
  let svc: RunningService;
  let inputs: string[];
  let imports: string[];
  beforeAll(async () => {
    const metafile = await bundleClientLibrary(OUT);
    const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith("index.js"))![1];
    inputs = Object.keys(output.inputs);
    imports = output.imports.map((i) => i.path);
    svc = await startService();
  });
  afterAll(() => svc?.close());

  test("takes runtime code only from the generated stubs and connect, which stay external", () => {
    for (const file of inputs) expect(file).toMatch(/^(web-client\/src|vendor\/flyteidl2|src\/gen)\//);
    expect(inputs.filter((f) => f.startsWith("web-client/src/dashboard/"))).toEqual([]);
    for (const spec of imports) expect(LIBRARY_EXTERNALS.some((p) => spec === p || spec.startsWith(`${p}/`))).toBe(true);
    expect(imports).toEqual(expect.arrayContaining(["@connectrpc/connect", "@connectrpc/connect-web"]));
  });

  test("is plain ESM that Node loads and uses against the service, over each protocol", async () => {
    const script = `
      import { createConnectorClients, PROTOCOLS } from ${JSON.stringify(path.join(OUT, "index.js"))};
      const seen = {};
      for (const protocol of PROTOCOLS) {
        const clients = createConnectorClients({ baseUrl: process.argv[1], protocol });
        seen[protocol] = (await clients.listConnectors()).map((c) => c.name);
      }
      console.log(JSON.stringify(seen));`;
    // Asynchronously: the service answering the child runs in this very process.
    const { stdout: out } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script, svc.url], {
      cwd: ROOT_DIR,
      encoding: "utf8",
      timeout: 20_000,
    });
    const names = BUILTIN_CONNECTOR_NAMES;
    expect(JSON.parse(out)).toEqual({ "grpc-web": names, "connect-json": names, "connect-binary": names });
  });
});

describe("bundle size", () => {
  test("tree-shakes: one helper costs its own bytes only; the whole API stays in its budget", async () => {
    const [whole, one] = await measureBundleSizes();
    expect(one!.inputs).toEqual(["web-client/src/resource-meta-json.ts"]);
    expect(one!.gzipBytes).toBeLessThan(1_000);
    expect(whole!.inputs).toEqual(
      expect.arrayContaining([
        "node_modules/@connectrpc/connect-web/dist/esm/grpc-web-transport.js",
        "node_modules/@connectrpc/connect-web/dist/esm/connect-transport.js",
        "vendor/flyteidl2/flyteidl2/connector/service_pb.js",
      ]),
    );
    // docs/web-client.md states the size; about 65 kB gzip today, of which buf/validate and descriptor.proto,
    // imported by the flyteidl2 stubs, are a third. A jump past this budget should be a decision, not drift.
    expect(whole!.gzipBytes).toBeLessThan(72_000);
  });
});

describe("the emitted declarations", () => {
  test("type a consumer's code with the generated message types, and reject a wrong protocol", () => {
    const typesDir = path.join(OUT, "types");
    emitClientTypes(typesDir);
    writeFileSync(
      path.join(typesDir, "consumer.ts"),
      `import { createConnectorClients, phaseName, TaskExecution_Phase, type Resource } from "./web-client/src/index.js";
const clients = createConnectorClients({ baseUrl: "https://connectors.example", protocol: "grpc-web", headers: () => ({ Authorization: "Bearer t" }) });
export async function lastPhase(meta: Uint8Array): Promise<string> {
  const categories: string[] = (await clients.listConnectors()).flatMap((c) => c.supportedTaskCategories.map((t) => t.name));
  let last: Resource | undefined;
  for await (const r of clients.followTask({ name: categories[0] ?? "sleep" }, meta)) last = r;
  for await (const line of clients.streamLogs({ name: "sleep" }, meta)) void line.message.toUpperCase();
  return last && last.phase === TaskExecution_Phase.SUCCEEDED ? phaseName(last.phase) : "";
}
// @ts-expect-error: not a protocol
createConnectorClients({ baseUrl: "x", protocol: "grpc" });
export const phase: TaskExecution_Phase = TaskExecution_Phase.RUNNING;
`,
    );
    // skipLibCheck would hide a stub declaration that did not resolve (its types silently become any):
    // declarations are checked, only the default libs are skipped.
    writeFileSync(
      path.join(typesDir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2022", "DOM", "DOM.Iterable"],
          types: [],
          skipLibCheck: false,
          skipDefaultLibCheck: true,
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = require.resolve("typescript/bin/tsc");
    let diagnostics = "";
    try {
      execFileSync(process.execPath, [tsc, "-p", typesDir], { encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      diagnostics = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(diagnostics).toBe("");
  });
});
