import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, normalize, relative } from "node:path";
import { ROOT_DIR, WEB_CLIENT_DIR } from "./web-paths.js";

/**
 * Emits the library's declarations into `<typesDir>` (laid out like the repository, so relative imports
 * keep working), plus the generated stubs' declarations they import: a user gets the same typed messages.
 */
export function emitClientTypes(typesDir: string): void {
  const tsc = createRequire(join(ROOT_DIR, "package.json")).resolve("typescript/bin/tsc");
  // --noCheck: emit only; `npm run typecheck` checks these sources with the rest of the project.
  execFileSync(process.execPath, [tsc, "-p", join(WEB_CLIENT_DIR, "tsconfig.types.json"), "--outDir", typesDir, "--noCheck"], { stdio: "inherit" });
  copyImportedDeclarations(typesDir);
}

/** Copies every stub `.d.ts` reachable from the emitted declarations, following relative imports. */
function copyImportedDeclarations(typesDir: string): void {
  const queue = [join(typesDir, "web-client/src/index.d.ts")];
  const done = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from\s+|import\()\s*"(\.{1,2}\/[^"]+)\.js"/g)) {
      const target = normalize(join(dirname(file), `${m[1]}.d.ts`));
      const inRepo = join(ROOT_DIR, relative(typesDir, target));
      if (!existsSync(target)) {
        if (!existsSync(inRepo)) throw new Error(`declaration ${relative(ROOT_DIR, inRepo)} imported by ${relative(typesDir, file)} does not exist`);
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(inRepo, target);
      }
      queue.push(target);
    }
  }
}
