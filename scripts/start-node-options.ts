import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The node options of `npm start`, the service's production command line (package.json's `start` script,
 * `node <options> dist/bin/flyte-connect.mjs serve`). The Dockerfile's ENTRYPOINT must run node with the same
 * options (deploy/lint.mjs checks it) and the benchmarks start the service with them, so that what is measured
 * is what is deployed.
 */
export function startNodeOptions(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts?: Record<string, string> };
  const start = pkg.scripts?.["start"] ?? "";
  const match = /^node((?:\s+--\S+)*)\s+dist\/bin\/flyte-connect\.mjs\b/.exec(start);
  if (match === null) throw new Error(`package.json's start script is not "node [--options] dist/bin/flyte-connect.mjs …": ${start}`);
  return match[1]!.split(/\s+/).filter((o) => o !== "");
}
