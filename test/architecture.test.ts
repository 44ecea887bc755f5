import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// The layering of docs/decisions.md: cli → service → registry → connectors → literals, with
// config, log, errors and gen as leaves. These tests read the import statements of every source file.
const ROOT = resolve(__dirname, "..");
const SRC = join(ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "gen" ? [] : sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

interface Import {
  readonly from: string; // src-relative file
  readonly specifier: string;
  readonly target?: string; // src-relative file, for relative imports
  readonly typeOnly: boolean;
}

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?["']([^"']+)["']/gm;

const imports: Import[] = sourceFiles(SRC).flatMap((file) => {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => {
    const specifier = m[2]!;
    const target = specifier.startsWith(".") ? relative(SRC, resolve(dirname(file), specifier)).replace(/\.js$/, ".ts") : undefined;
    return { from: relative(SRC, file), specifier, target, typeOnly: m[1] !== undefined };
  });
});

const layerOf = (file: string) => file.split("/")[0]!;

test("the framework layers never import the transport (connect, fastify) or the service", () => {
  const framework = new Set(["connectors", "registry", "literals", "errors", "config", "log", "storage"]);
  const offending = imports.filter(
    (i) =>
      framework.has(layerOf(i.from)) &&
      (/^@connectrpc\/|^fastify|^@fastify\//.test(i.specifier) || ["service", "cli", "testing"].includes(layerOf(i.target ?? ""))),
  );
  expect(offending).toEqual([]);
});

test("dependencies point one way: nothing imports the CLI, and literals import no connector code", () => {
  expect(imports.filter((i) => layerOf(i.target ?? "") === "cli" && layerOf(i.from) !== "cli" && i.from !== "server.ts")).toEqual([]);
  expect(
    imports.filter((i) => layerOf(i.from) === "literals" && !i.typeOnly && ["connectors", "registry", "service"].includes(layerOf(i.target ?? ""))),
  ).toEqual([]);
});

test("storage is a layer below the connectors: it imports only literals, config and errors, and literals never import it", () => {
  expect(
    imports.filter((i) => layerOf(i.from) === "storage" && !i.typeOnly && i.target && !["storage", "literals", "config", "errors"].includes(layerOf(i.target))),
  ).toEqual([]);
  expect(imports.filter((i) => layerOf(i.from) === "literals" && layerOf(i.target ?? "") === "storage")).toEqual([]);
  // The cloud SDKs load on first use only: nothing imports them statically.
  expect(
    imports.filter(
      (i) =>
        /^@aws-sdk\/|^@google-cloud\/|^@azure\//.test(i.specifier) &&
        !["storage/s3-store.ts", "storage/gcs-store.ts", "storage/azure-store.ts"].includes(i.from),
    ),
  ).toEqual([]);
  expect(imports.filter((i) => ["storage/s3-store.ts", "storage/gcs-store.ts", "storage/azure-store.ts"].includes(i.target ?? ""))).toEqual([]);
});

test("no import cycles between source files (type-only imports excepted)", () => {
  const graph = new Map<string, string[]>();
  for (const i of imports) if (i.target && !i.typeOnly) graph.set(i.from, [...(graph.get(i.from) ?? []), i.target]);
  const cycles: string[][] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    if (state.get(n) === "done") return;
    if (state.get(n) === "visiting") {
      cycles.push([...stack.slice(stack.indexOf(n)), n]);
      return;
    }
    state.set(n, "visiting");
    stack.push(n);
    for (const m of graph.get(n) ?? []) visit(m);
    stack.pop();
    state.set(n, "done");
  };
  for (const n of graph.keys()) visit(n);
  expect(cycles).toEqual([]);
});

test("the parser sees the imports it checks", () => {
  // Guards the regex above: if it stopped matching, every other test here would pass vacuously.
  expect(imports.length).toBeGreaterThan(200);
  expect(imports).toContainEqual(expect.objectContaining({ from: "service/create-server.ts", specifier: "fastify" }));
  expect(imports).toContainEqual(expect.objectContaining({ from: "connectors/connector.ts", target: "connectors/resource-meta.ts", typeOnly: false }));
});
