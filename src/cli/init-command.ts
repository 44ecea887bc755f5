import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CodedError } from "../errors/coded-error.js";

export const INIT_USAGE = `Usage: flyte-connect init <dir> [options]

Creates a connector project in <dir> (a new or empty folder): package.json, tsconfig.json (strict, ESM,
declarations), one connector in src/connector.ts, its test through flyte-connect/testing, and a README with
the Python task that matches it and the executor configuration. Then: cd <dir> && npm install && npm test.

Options:
  --name <package-name>     the npm package name (default: the folder's name)
  --task-type <type>        the task type it serves (default: the name in snake_case, without "-connector")
  --dependency <spec>       what package.json depends on for flyte-connect (default: this version, exactly);
                            for example a tarball: file:../flyte-connect-0.1.0.tgz
  -h, --help                show this help
`;

/** A bad `init` argument or a folder that cannot take a project: exit 2. */
export class InitError extends CodedError {
  static override readonly code = "FC_INIT";
}

// Resolved from this file, so they hold from src/cli (tsx), dist/cli and the bundle in dist/bin alike.
const TEMPLATE_DIR = fileURLToPath(new URL("../../templates/connector/", import.meta.url));
const OWN_PACKAGE_JSON = fileURLToPath(new URL("../../package.json", import.meta.url));

/** The names the template is written with; each is replaced by the new project's. */
const TEMPLATE_NAMES = { packageName: "word-count", taskType: "word_count", pascal: "WordCount", camel: "wordCount", title: "Word Count" } as const;

/** Files whose names npm or git would treat specially inside the package: renamed when written. */
const RENAMES: Readonly<Record<string, string>> = { "package.template.json": "package.json", _gitignore: ".gitignore" };

export type ProjectNames = { readonly [K in keyof typeof TEMPLATE_NAMES]: string };

/** The names of a project called `packageName`: `acme-jobs-connector` serves `acme_jobs` with AcmeJobsConnector. */
export function projectNames(packageName: string, taskType?: string): ProjectNames {
  if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(packageName) || packageName.length > 214) {
    throw new InitError(`${JSON.stringify(packageName)} is not an npm package name (lowercase letters, digits, "-", "." and "_"): give one with --name`);
  }
  const bare = packageName.replace(/^@[^/]+\//, "");
  const words = (taskType ?? bare.replace(/[-_.]connector$/, ""))
    .split(/[^a-z0-9]+/i)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  if (words.length === 0 || !/^[a-z]/.test(words[0]!)) {
    throw new InitError(`cannot make a task type and class name from ${JSON.stringify(taskType ?? bare)}: give --task-type, starting with a letter`);
  }
  const cap = (w: string) => w[0]!.toUpperCase() + w.slice(1);
  const pascal = words.map(cap).join("");
  return { packageName, taskType: words.join("_"), pascal, camel: pascal[0]!.toLowerCase() + pascal.slice(1), title: words.map(cap).join(" ") };
}

/** The template's text with the project's names and dependency versions in it. */
function render(text: string, names: ProjectNames, versions: Readonly<Record<string, string>>): string {
  let out = text.replace(/\{\{([@\w/-]+)\}\}/g, (whole, key: string) => versions[key] ?? whole);
  for (const key of Object.keys(TEMPLATE_NAMES) as (keyof typeof TEMPLATE_NAMES)[]) out = out.split(TEMPLATE_NAMES[key]).join(names[key]);
  return out;
}

function templateFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Writes a new project into `dir`; returns the files written, relative to it. */
export function initProject(dir: string, options: { readonly name?: string; readonly taskType?: string; readonly dependency?: string } = {}): string[] {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) throw new InitError(`${target} is not empty: give a new or empty folder`);
  const names = projectNames(options.name ?? basename(target), options.taskType);
  const own = JSON.parse(readFileSync(OWN_PACKAGE_JSON, "utf8")) as { version: string; devDependencies?: Record<string, string> };
  const versions: Record<string, string> = {
    "flyte-connect": options.dependency ?? own.version,
    typescript: own.devDependencies?.["typescript"] ?? "6.0.3",
    "@types/node": own.devDependencies?.["@types/node"] ?? "20.19.43",
  };
  const written: string[] = [];
  for (const file of templateFiles(TEMPLATE_DIR)) {
    const name = basename(file);
    const out = join(dirname(file), RENAMES[name] ?? name);
    mkdirSync(join(target, out, ".."), { recursive: true });
    writeFileSync(join(target, out), render(readFileSync(join(TEMPLATE_DIR, file), "utf8"), names, versions));
    written.push(out);
  }
  return written;
}

/** `flyte-connect init`: returns the exit code. */
export function initCommand(argv: readonly string[]): number {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(INIT_USAGE);
    return 0;
  }
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { name: { type: "string" }, "task-type": { type: "string" }, dependency: { type: "string" } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new InitError(`init takes one folder, such as "flyte-connect init my-connector"\n\n${INIT_USAGE}`);
  const dir = positionals[0]!;
  const files = initProject(dir, { name: values.name, taskType: values["task-type"], dependency: values.dependency });
  process.stdout.write(
    `Created a connector project in ${resolve(dir)}:\n${files.map((f) => `  ${f}\n`).join("")}\nNext:\n  cd ${dir}\n  npm install\n  npm test\n  npm start\n`,
  );
  return 0;
}
