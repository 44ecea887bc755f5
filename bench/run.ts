// `npm run bench`: every benchmark, each printed as a table. Figures are ratios measured side by side in one
// run; absolute numbers move with the machine's load.
import { runServiceBench } from "./service-bench.js";

function printTable(title: string, rows: readonly Record<string, string | number>[]): void {
  process.stdout.write(`\n## ${title}\n\n`);
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  process.stdout.write(line(cols) + "\n");
  process.stdout.write(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|\n`);
  for (const r of rows) process.stdout.write(line(cols.map((c) => String(r[c]))) + "\n");
}

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

if (want("service")) {
  const { throughput, startup } = await runServiceBench();
  printTable("GetTask throughput (one grpc-js channel / one HTTP/1.1 pool, load generator in this process)", throughput);
  printTable("Cold start and idle memory (node dist/bin/flyte-connect.mjs serve)", startup);
}
