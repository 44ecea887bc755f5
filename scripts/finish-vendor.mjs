// Finishes generated stubs under vendor/ (vendor/flyteidl2, transpiled from @flyteorg/flyteidl2, and vendor/flyteidl,
// generated from @flyteorg/flyteidl's .proto files):
// - marks the folder as an ES module package, so that Node loads its .js files as ESM;
// - points the declaration files' relative imports at ".js", because tsc keeps the source's ".ts"
//   specifiers in .d.ts files and a consumer would otherwise resolve those types to nothing.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node scripts/finish-vendor.mjs <dir>");
writeFileSync(join(dir, "package.json"), `${JSON.stringify({ type: "module", sideEffects: false })}\n`);

for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
  const path = join(entry.parentPath, entry.name);
  const text = readFileSync(path, "utf8");
  const fixed = text.replace(/(from\s+"\.{1,2}\/[^"]*)\.ts"/g, '$1.js"');
  if (fixed !== text) writeFileSync(path, fixed);
}
