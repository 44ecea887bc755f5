// PostgreSQL connector under load: 100 concurrent `SELECT pg_sleep(0.5)` tasks created and polled through one
// service instance (a child process running `flyte-connect serve`), next to one task alone, with the service's
// peak RSS in the same table. Target: the 100 finish within 2× the single task's time, RSS under 200 MB.
// Run alone with `node --import tsx bench/postgres-bench.ts`.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { grpcJsClient, type GrpcJsClient } from "../test/helpers/grpc-js-client.js";
import { startPostgres, type PostgresServer } from "../test/helpers/postgres.js";
import { createTaskRequest } from "../test/support/tasks.js";
import { printTable, type Row } from "./table.js";

const ROOT = resolve(import.meta.dirname, "..");
const CATEGORY = { name: "postgres", version: 0 };
const TERMINAL = new Set([TaskExecution_Phase.SUCCEEDED, TaskExecution_Phase.FAILED, TaskExecution_Phase.RETRYABLE_FAILED, TaskExecution_Phase.ABORTED]);
/**
 * Far more often than the executor's 30 s, so that the wall time measures the connector, not the poll gap;
 * 100 tasks polled every 200 ms are 500 GetTask/s, 50 times the executor's rate limit.
 */
const POLL_MS = 200;

interface Service {
  readonly child: ChildProcess;
  readonly address: string;
  /** What ran, for the table. */
  readonly runtime: string;
}

/**
 * The CLI bundled from the current sources as `npm run build` bundles it (scripts/bundle-cli.mjs), into .tmp/
 * so that nothing shared is touched: the service's memory is measured as it runs in production, without tsx.
 */
async function bundleCli(): Promise<string> {
  const outfile = resolve(ROOT, ".tmp/postgres-bench/flyte-connect.mjs");
  await build({
    absWorkingDir: ROOT,
    entryPoints: ["src/cli/main.ts"],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["pg-native"],
    banner: { js: "import { createRequire as __fcCreateRequire } from 'node:module'; const require = __fcCreateRequire(import.meta.url);" },
    logLevel: "warning",
  });
  return outfile;
}

/** `flyte-connect serve` with its built-in connectors, in a child process so that its memory is measured alone. */
async function startService(): Promise<Service> {
  const cli = await bundleCli();
  const child = spawn(process.execPath, [cli, "serve", "--host", "127.0.0.1", "--port", "0", "--no-metrics"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolveService, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /"url":"http:\/\/([^"]+)"/.exec(out);
      if (m) resolveService({ child, address: m[1]!, runtime: "bundled CLI" });
    });
    child.once("exit", (code) => reject(new Error(`flyte-connect serve exited with ${code}:\n${out}`)));
  });
}

/** Peak and current resident set size of a process, in MB, from /proc. */
function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { peakMb: kb("VmHWM") / 1024, rssMb: kb("VmRSS") / 1024 };
}

let runs = 0;
/**
 * Creates one `SELECT pg_sleep(0.5)` task and polls it until it ends; resolves with its final phase and its
 * metadata. Deleting it (as the executor's garbage collector would) is left to the caller, outside the timing.
 */
async function oneTask(client: GrpcJsClient<typeof AsyncConnectorService>, db: PostgresServer): Promise<{ phase: TaskExecution_Phase; meta: Uint8Array }> {
  const connection = db.connection();
  const request = createTaskRequest({ type: "postgres", custom: { query: "SELECT pg_sleep(0.5)" }, ...connection });
  request.taskExecutionMetadata!.taskExecutionId!.nodeExecutionId!.executionId!.name = `bench-${process.pid}-${++runs}`;
  const created = await client.createTask(request, { timeoutMs: 10_000 });
  for (;;) {
    const got = await client.getTask({ taskCategory: CATEGORY, resourceMeta: created.resourceMeta, connection } as never, { timeoutMs: 10_000 });
    const phase = got.resource!.phase;
    if (TERMINAL.has(phase)) return { phase, meta: created.resourceMeta };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** `n` tasks at once; the wall time runs from the first CreateTask to the last task seen finished. */
async function wave(client: GrpcJsClient<typeof AsyncConnectorService>, db: PostgresServer, n: number): Promise<{ ms: number; succeeded: number }> {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, () => oneTask(client, db)));
  const ms = performance.now() - t0;
  const connection = db.connection();
  await Promise.all(results.map((r) => client.deleteTask({ taskCategory: CATEGORY, resourceMeta: r.meta, connection } as never, { timeoutMs: 10_000 })));
  return { ms, succeeded: results.filter((r) => r.phase === TaskExecution_Phase.SUCCEEDED).length };
}

/** Runs the benchmark and returns its table. */
export async function runPostgresBench(): Promise<Row[]> {
  const db = await startPostgres({ maxConnections: 300 });
  let service: Service | undefined;
  try {
    service = await startService();
    const client = grpcJsClient(AsyncConnectorService, service.address);
    const pid = service.child.pid!;
    try {
      const idle = memoryOf(pid);
      // Warm-up: the first task pays for the job table, the pools and the JIT.
      await wave(client, db, 1);
      const single = await wave(client, db, 1);
      const afterSingle = memoryOf(pid);
      // The first burst opens a session per query (a PostgreSQL backend and an authentication each); later
      // bursts reuse the sessions their predecessors left idle.
      const cold = await wave(client, db, 100);
      const afterCold = memoryOf(pid);
      const warm = await wave(client, db, 100);
      const afterWarm = memoryOf(pid);
      const row = (
        scenario: string,
        tasks: number,
        r: { ms: number; succeeded: number } | undefined,
        mem: { rssMb: number; peakMb: number },
        withTarget: boolean,
      ): Row => {
        const ratio = r ? r.ms / single.ms : 0;
        return {
          scenario,
          tasks,
          succeeded: r ? r.succeeded : "",
          "wall ms": r ? r.ms.toFixed(0) : "",
          "× single": r ? ratio.toFixed(2) : "",
          "RSS MB": mem.rssMb.toFixed(0),
          "peak RSS MB": mem.peakMb.toFixed(0),
          target: withTarget ? `${ratio <= 2 ? "met" : "missed"} ≤ 2×, ${mem.peakMb < 200 ? "met" : "missed"} < 200 MB` : "",
        };
      };
      return [
        row(`service idle (${service.runtime})`, 0, undefined, idle, false),
        row("1 task", 1, single, afterSingle, false),
        row("100 concurrent, cold sessions", 100, cold, afterCold, true),
        row("100 concurrent, warm sessions", 100, warm, afterWarm, true),
      ];
    } finally {
      client.close();
    }
  } finally {
    if (service && service.child.exitCode === null) {
      const exited = new Promise((r) => service!.child.once("exit", r));
      service.child.kill("SIGTERM");
      await exited;
    }
    await db.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  printTable("PostgreSQL connector: 100 concurrent SELECT pg_sleep(0.5) through one service instance", await runPostgresBench());
}
