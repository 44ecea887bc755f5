// `npm run bench [service|literals|postgres|storage|hostile]`: every benchmark, each printed as a table. Figures are ratios
// measured side by side in one run; absolute numbers move with the machine's load. Results: docs/benchmarks.md.
// The service tables take ROUNDS, DURATION, WARMUP, CONCURRENCY and METHODS from the environment.
import { runHostileBench } from "./hostile-bench.js";
import { runLiteralsBench } from "./literals-bench.js";
import { runPostgresBench } from "./postgres-bench.js";
import { runServiceBench } from "./service-bench.js";
import { runStorageBench } from "./storage-bench.js";
import { printTable } from "./table.js";

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

if (want("service")) {
  for (const section of await runServiceBench()) printTable(section.title, section.rows, section.notes);
}
if (want("literals")) {
  const rows = await runLiteralsBench();
  printTable(
    "Type engine: a 3.6 MiB Inputs converted both ways, next to protobuf decode+encode of the same bytes",
    rows.map((r) => ({ conversion: r.name, ms: r.ms.toFixed(2), "× protobuf decode+encode": r.ratio === undefined ? "" : r.ratio.toFixed(2) })),
  );
}
if (want("postgres")) {
  printTable("PostgreSQL connector: 100 concurrent SELECT pg_sleep(0.5) through one service instance", await runPostgresBench());
}
if (want("storage")) {
  printTable("Offloading a 50 MiB output to outputs.pb (GetTask's path), next to encoding the same LiteralMap", await runStorageBench());
}
if (only.includes("hostile")) {
  // Not in the default set: it takes a minute and more, and it is about abuse, not speed.
  const { runs, summary, notes } = await runHostileBench();
  printTable("Normal clients beside a hostile client (zero-window streams, FIN without GOAWAY, rapid resets, a maximum-size CreateTask a second)", runs, notes);
  printTable("Normal clients' latency with the hostile client, next to without it", summary);
}
