import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectorModuleError, loadConnectorModules } from "../../src/registry/load-modules.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";

// `--modules` resolves packages and paths from the working directory, the user's project, and says where it
// looked when it finds nothing.

/** A module file that exports one connector-shaped object serving `taskType`. */
function connectorModule(taskType: string): string {
  return `const connector = {
  name: ${JSON.stringify(`${taskType} connector`)}, taskTypeName: ${JSON.stringify(taskType)}, taskTypeVersion: 0,
  metadata: { encode: (m) => Buffer.from(JSON.stringify(m)), decode: (b) => JSON.parse(Buffer.from(b).toString()) },
  create: async () => ({}), get: async () => ({ phase: "SUCCEEDED" }), delete: async () => {},
};
module.exports = { connectors: [connector] };
`;
}

function write(path: string, text: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

let project: string;
beforeAll(() => {
  project = realpathSync(mkdtempSync(join(tmpdir(), "fc-modules-")));
  write(join(project, "package.json"), JSON.stringify({ name: "my-connectors", exports: { ".": { types: "./x.d.ts", import: "./lib/main.js" } } }));
  write(join(project, "lib/main.js"), connectorModule("own"));
  write(join(project, "local/conn.js"), connectorModule("local"));
  // An installed package that only an ES module import can resolve ("import" condition, no "main").
  const pkg = join(project, "node_modules/@acme/conns");
  write(
    join(pkg, "package.json"),
    JSON.stringify({ name: "@acme/conns", exports: { ".": { import: "./dist/index.js" }, "./extra/*": { default: "./dist/extra/*.js" } } }),
  );
  write(join(pkg, "dist/index.js"), connectorModule("acme"));
  write(join(pkg, "dist/extra/more.js"), connectorModule("acme_more"));
  mkdirSync(join(project, "src/deep"), { recursive: true });
});

async function load(spec: string, cwd: string): Promise<string[]> {
  const registry = createConnectorRegistry([]);
  await loadConnectorModules([spec], registry, cwd);
  return registry.list().flatMap((c) => c.taskCategories.map((t) => t.name));
}

test.each([
  ["a package in the project's node_modules (exports with the import condition only)", "@acme/conns", ".", ["acme"]],
  ["the same from a folder below the project", "@acme/conns", "src/deep", ["acme"]],
  ["a package subpath through an exports pattern", "@acme/conns/extra/more", ".", ["acme_more"]],
  ["the project itself by its own name", "my-connectors", ".", ["own"]],
  ["a relative path", "./local/conn.js", ".", ["local"]],
])("%s", async (_what, spec, from, types) => {
  expect(await load(spec, join(project, from))).toEqual(types);
});

test("a package that is not installed: where it looked, and what to do", async () => {
  const err = await load("@acme/missing", join(project, "src/deep")).catch((e: unknown) => e as ConnectorModuleError);
  expect(err).toBeInstanceOf(ConnectorModuleError);
  const message = (err as Error).message;
  expect(message).toContain(`cannot find connector module @acme/missing from the working directory ${join(project, "src/deep")}`);
  expect(message).toContain(
    `no package @acme/missing in ${join(project, "src/deep/node_modules/@acme/missing")}, ${join(project, "src/node_modules/@acme/missing")}, ${join(project, "node_modules/@acme/missing")}`,
  );
  expect(message).toContain("npm install @acme/missing");
});

test("a path that does not exist names the file it tried and the working directory", async () => {
  const err = (await load("./dist/nope.js", project).catch((e: unknown) => e)) as Error;
  expect(err).toBeInstanceOf(ConnectorModuleError);
  expect(err!.message).toBe(
    `cannot find connector module ./dist/nope.js: there is no file ${join(project, "dist/nope.js")} (paths are resolved from the working directory ${project})`,
  );
});

test("a package whose entry is not built says so", async () => {
  write(join(project, "node_modules/unbuilt/package.json"), JSON.stringify({ name: "unbuilt", main: "dist/index.js" }));
  const err = (await load("unbuilt", project).catch((e: unknown) => e)) as Error;
  expect(err!.message).toContain(`unbuilt points at ${join(project, "node_modules/unbuilt/dist/index.js")}, which does not exist (is the package built?)`);
});
