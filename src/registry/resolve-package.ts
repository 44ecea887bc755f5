import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Where a package's entry is, or why none was found (with every place looked in). */
export type PackageEntry = { readonly file: string; readonly problem?: undefined } | { readonly file?: undefined; readonly problem: string };

interface PackageJson {
  readonly name?: string;
  readonly main?: string;
  readonly exports?: unknown;
}

/** The conditions an ES module import on Node matches; `exports` objects are tried in their own key order. */
const CONDITIONS = ["node", "import", "module-sync", "default"];

/**
 * Resolves a package specifier (`name`, `@scope/name`, `name/subpath`) as an ES module in `cwd` would
 * import it: `node_modules/<name>` in `cwd` and each folder above it, or the enclosing project itself when it
 * has that name (a package importing itself). The entry comes from `exports` (string, conditions or
 * subpaths), else `main`, else `index.js`. `import()` cannot be told where to resolve from on Node 20 (its
 * parent argument is behind a flag), hence this.
 */
export function resolvePackageEntry(spec: string, cwd: string): PackageEntry {
  const parts = spec.split("/");
  const nameLength = spec.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameLength).join("/");
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join("/")}` : ".";
  const looked: string[] = [];
  for (let dir = cwd; ; dir = dirname(dir)) {
    const own = readPackageJson(join(dir, "package.json"));
    if (own?.name === name) return entryOf(dir, own, subpath, spec);
    const root = join(dir, "node_modules", name);
    looked.push(root);
    const pkg = readPackageJson(join(root, "package.json"));
    if (pkg) return entryOf(root, pkg, subpath, spec);
    if (dirname(dir) === dir) break;
  }
  return { problem: `no package ${name} in ${looked.join(", ")}` };
}

function readPackageJson(path: string): PackageJson | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as PackageJson;
  } catch {
    return undefined;
  }
}

function entryOf(root: string, pkg: PackageJson, subpath: string, spec: string): PackageEntry {
  let target: string | undefined;
  if (pkg.exports !== undefined) {
    target = exportTarget(pkg.exports, subpath);
    if (target === undefined) return { problem: `${join(root, "package.json")} exports no "${subpath}" for import` };
  } else {
    target = subpath === "." ? (pkg.main ?? "index.js") : subpath;
  }
  const file = join(root, target);
  if (!existsSync(file)) return { problem: `${spec} points at ${file}, which does not exist (is the package built?)` };
  return { file };
}

/** The file `exports` maps a subpath to for an ES module import on Node; undefined when it maps none. */
function exportTarget(exports: unknown, subpath: string): string | undefined {
  const isSubpathMap = typeof exports === "object" && exports !== null && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith("."));
  if (!isSubpathMap) return subpath === "." ? conditionTarget(exports) : undefined;
  const map = exports as Record<string, unknown>;
  if (subpath in map) return conditionTarget(map[subpath]);
  // One "*" in a key stands for the rest of the subpath, as in "./idl/*".
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf("*");
    if (star < 0 || !subpath.startsWith(key.slice(0, star)) || !subpath.endsWith(key.slice(star + 1))) continue;
    const middle = subpath.slice(star, subpath.length - (key.length - star - 1));
    return conditionTarget(value)?.replace("*", middle);
  }
  return undefined;
}

function conditionTarget(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = conditionTarget(v);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  if (typeof value === "object" && value !== null) {
    for (const [condition, v] of Object.entries(value)) {
      if (CONDITIONS.includes(condition)) {
        const t = conditionTarget(v);
        if (t !== undefined) return t;
      }
    }
  }
  return undefined;
}
