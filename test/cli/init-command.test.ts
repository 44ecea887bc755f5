import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InitError, initProject, projectNames } from "../../src/cli/init-command.js";

// `flyte-connect init` writes the template with the project's names; the pack test installs, compiles, tests
// and serves what it writes.

const fresh = () => mkdtempSync(join(tmpdir(), "fc-init-"));

test("writes the project with its names, a .gitignore, and flyte-connect pinned to this version", () => {
  const dir = join(fresh(), "acme-jobs-connector");
  const files = initProject(dir);
  expect(files.sort()).toEqual([".gitignore", "README.md", "package.json", "src/connector.test.ts", "src/connector.ts", "tsconfig.json"]);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    name: string;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    scripts: Record<string, string>;
  };
  const own = JSON.parse(readFileSync(join(__dirname, "../../package.json"), "utf8")) as { version: string; devDependencies: Record<string, string> };
  expect(pkg.name).toBe("acme-jobs-connector");
  expect(pkg.dependencies).toEqual({ "flyte-connect": own.version });
  expect(pkg.devDependencies).toEqual({ typescript: own.devDependencies["typescript"], "@types/node": own.devDependencies["@types/node"] });
  expect(pkg.scripts["start"]).toBe("flyte-connect serve --modules acme-jobs-connector --no-builtins");
  const source = readFileSync(join(dir, "src/connector.ts"), "utf8");
  expect(source).toContain("export class AcmeJobsConnector extends AsyncConnector<AcmeJobsMeta, Inputs, Outputs>");
  expect(source).toContain('readonly taskTypeName = "acme_jobs";');
  expect(source).not.toMatch(/WordCount|wordCount|word_count|Word Count|word-count/);
  const readme = readFileSync(join(dir, "README.md"), "utf8");
  expect(readme).toContain('task_type="acme_jobs"');
  expect(readme).toContain("class AcmeJobsTask(AsyncConnectorExecutorMixin, TaskTemplate):");
  expect(readme).toContain("supportedTaskTypes: [acme_jobs]");
  expect(readFileSync(join(dir, "tsconfig.json"), "utf8")).toMatch(/"strict": true[\s\S]*"declaration": true/);
});

test("--name, --task-type and --dependency choose other names and a tarball", () => {
  const dir = join(fresh(), "x");
  initProject(dir, { name: "@acme/flyte-jobs", taskType: "batch-job", dependency: "file:../flyte-connect-0.1.0.tgz" });
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; dependencies: Record<string, string> };
  expect(pkg).toMatchObject({ name: "@acme/flyte-jobs", dependencies: { "flyte-connect": "file:../flyte-connect-0.1.0.tgz" } });
  expect(readFileSync(join(dir, "src/connector.ts"), "utf8")).toContain('readonly taskTypeName = "batch_job";');
});

test("a folder that is not empty, or a name npm would refuse, is an InitError that says what to give", () => {
  const dir = fresh();
  writeFileSync(join(dir, "keep.txt"), "x");
  expect(() => initProject(dir)).toThrow(InitError);
  expect(() => initProject(dir)).toThrow(`${dir} is not empty: give a new or empty folder`);
  expect(() => projectNames("My Connector")).toThrow('"My Connector" is not an npm package name');
  expect(() => projectNames("x", "9lives")).toThrow("give --task-type, starting with a letter");
});
