// Summarises a `node --cpu-prof` profile of the bundled CLI by area: self time as a share of busy time
// (idle excluded), each sample placed by its source file through the bundle's source map.
//   node --cpu-prof --cpu-prof-dir=.tmp/prof dist/bin/flyte-connect.mjs serve ...   (load it, then SIGTERM)
//   node --import tsx bench/cpu-profile-summary.ts .tmp/prof/CPU.*.cpuprofile
import { readFileSync } from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import { fileURLToPath } from "node:url";
import { printTable } from "./table.js";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

/** The area a source file belongs to: a package, one of our folders, or a part of Node. */
function areaOf(source: string, functionName: string): string | undefined {
  if (functionName === "(idle)") return undefined;
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(program)") return "V8/Node native (program)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source)?.[1];
  if (pkg) {
    if (["fastify", "find-my-way", "avvio", "light-my-request", "@fastify/cors", "fastq", "fast-json-stringify"].includes(pkg)) return "fastify + find-my-way";
    if (
      [
        "pino",
        "fast-redact",
        "pino-std-serializers",
        "sonic-boom",
        "thread-stream",
        "@pinojs/redact",
        "quick-format-unescaped",
        "atomic-sleep",
        "safe-stable-stringify",
      ].includes(pkg)
    )
      return "pino + redaction";
    if (["prom-client", "tdigest", "bintrees"].includes(pkg)) return "prom-client";
    return pkg;
  }
  const ours = /(?:^|\/)(src\/[^/]+)\//.exec(source)?.[1];
  if (ours) return ours;
  if (/(?:^|\/)vendor\//.test(source)) return "vendor/flyteidl2 (generated)";
  if (source.startsWith("node:internal/http2") || source === "node:http2") return "node:http2";
  if (source.startsWith("node:internal/streams") || source === "node:stream") return "node streams";
  if (/^node:(events|internal\/event_target|internal\/abort_controller)/.test(source)) return "node events, EventTarget, AbortController";
  if (/^node:internal\/(errors|per_context\/domexception)/.test(source)) return "node errors, DOMException";
  if (/^node:internal\/(modules|bootstrap)/.test(source)) return "start-up (module loading and compiling)";
  if (source.startsWith("node:internal/deps/undici")) return "node undici (Headers)";
  if (/^node:internal\/(timers|process\/task_queues)/.test(source)) return "node timers and ticks";
  if (source.startsWith("node:")) return "node (other)";
  return source === "" ? "native/builtin" : "other";
}

export function summarize(profile: Profile, bundleUrl: string | undefined): { area: string; share: number }[] {
  let map: SourceMap | undefined;
  if (bundleUrl) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(bundleUrl)}.map`, "utf8")) as SourceMapPayload);
    } catch {
      map = undefined;
    }
  }
  const areaOfNode = new Map<number, string | undefined>();
  for (const n of profile.nodes) {
    const { url, lineNumber, columnNumber, functionName } = n.callFrame;
    let source = url;
    if (map && url === bundleUrl && lineNumber >= 0) {
      const entry = map.findEntry(lineNumber, columnNumber);
      source = "originalSource" in entry ? entry.originalSource : url;
    }
    areaOfNode.set(n.id, areaOf(source, functionName));
  }
  const counts = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const area = areaOfNode.get(id);
    if (area === undefined) continue;
    busy++;
    counts.set(area, (counts.get(area) ?? 0) + 1);
  }
  return [...counts].map(([area, n]) => ({ area, share: n / busy })).sort((a, b) => b.share - a.share);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: bench/cpu-profile-summary.ts <file.cpuprofile>");
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const bundleUrl = profile.nodes.map((n) => n.callFrame.url).find((u) => u.endsWith("/flyte-connect.mjs"));
  const rows = summarize(profile, bundleUrl);
  printTable(
    `Self time by area, share of busy time (${file})`,
    rows.filter((r) => r.share >= 0.005).map((r) => ({ area: r.area, share: `${(r.share * 100).toFixed(1)} %` })),
  );
}
