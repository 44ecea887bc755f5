// The two ways the service bench drives unary load over one connection: the acceptance harness's grpc-go
// loadgen (the executor's kind of client, in its own process) when the harness is built, else an in-process
// grpc-js loop. Both report calls/s, p50, p99 and the server's CPU per call over the measured window only.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health } from "../src/gen/health/v1/health_pb.js";
import { grpcJsClient } from "../test/helpers/grpc-js-client.js";
import { createTaskRequest, INTEGER, intLiteral } from "../test/support/tasks.js";
import type { Harness } from "../test/interop/harness.js";
import { runProcess } from "../test/interop/run-process.js";
import type { BenchServer } from "./servers.js";

/** The RPCs the executor calls, in the order the table lists them. */
export const METHODS = ["GetTask", "CreateTask", "DeleteTask", "ListConnectors", "Check"] as const;
export type BenchMethod = (typeof METHODS)[number];

export const METHOD_TITLES: Readonly<Record<BenchMethod, string>> = {
  GetTask: "GetTask",
  CreateTask: "CreateTask",
  DeleteTask: "DeleteTask",
  ListConnectors: "ListConnectors",
  Check: "Health Check",
};

export const mean = (xs: readonly number[]): number => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Server user+system CPU over the measured window, µs per completed call. */
  readonly cpuUsPerCall: number | undefined;
}

export interface LoadSettings {
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs: number;
}

export interface LoadDriver {
  /** For the table's heading. */
  readonly description: string;
  /** Creates one finished sleep task on the server, for the GetTask and DeleteTask requests. */
  prepare(server: BenchServer): Promise<void>;
  run(server: BenchServer, method: BenchMethod, settings: LoadSettings): Promise<LoadResult>;
  close(): void;
}

const CLOCK_TICKS_PER_S = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process and all its threads, in µs, from /proc/<pid>/stat. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "pid (comm) ": the command may contain spaces, so split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5)
  return (ticks / CLOCK_TICKS_PER_S) * 1e6;
}

/**
 * Runs `concurrency` closed loops of `call` for a warm-up, then for the measured window, and reads the
 * server's CPU at the window's edges. A call counts if it ends inside the window.
 */
export async function loadInProcess(call: () => Promise<unknown>, serverPid: number, settings: LoadSettings): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const windowStart = t0 + settings.warmupMs;
  const end = windowStart + settings.durationMs;
  let cpuStart: number | undefined;
  const cpuTimer = setTimeout(() => (cpuStart = processCpuMicros(serverPid)), settings.warmupMs);
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        let ok = true;
        try {
          await call();
        } catch {
          ok = false;
        }
        const done = performance.now();
        if (t < windowStart || done > end) continue;
        if (ok) latencies.push(done - t);
        else errors++;
      }
    }),
  );
  clearTimeout(cpuTimer);
  const cpu = cpuStart === undefined ? undefined : processCpuMicros(serverPid) - cpuStart;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? Number.NaN;
  const calls = latencies.length;
  return {
    rps: calls / (settings.durationMs / 1000),
    p50: pct(50),
    p99: pct(99),
    errors,
    cpuUsPerCall: cpu !== undefined && calls > 0 ? cpu / calls : undefined,
  };
}

const OUTPUT_PREFIX = "s3://bench-bucket/bn/flytesnacks/development/rbench/a0/1";
const SLEEP = { name: "sleep", version: 0 };

/** grpc-go loadgen, one ClientConn (one HTTP/2 connection), pre-encoded requests as the executor sends them. */
export function loadgenDriver(harness: Harness, descriptors: string, workDir: string): LoadDriver {
  mkdirSync(workDir, { recursive: true });
  const files = new Map<string, Partial<Record<BenchMethod, string>>>();
  return {
    description: "grpc-go loadgen from the acceptance harness, 1 connection",
    async prepare(server) {
      const base = join(workDir, server.label.replace(/[^a-z0-9]+/gi, "-"));
      const created = await runProcess(harness.executorSim, [
        "-addr",
        server.address,
        "-descriptors",
        descriptors,
        "-scenario",
        "create",
        "-q",
        "-input",
        "seconds=0",
        "-meta-out",
        `${base}.meta`,
        "-create-request-out",
        `${base}.CreateTask.json`,
      ]);
      if (created.code !== 0) throw new Error(`executor-sim could not create a sleep task on ${server.label}:\n${created.stdout}${created.stderr}`);
      const meta = readFileSync(`${base}.meta`, "utf8").trim();
      writeFileSync(`${base}.GetTask.json`, JSON.stringify({ taskCategory: SLEEP, resourceMeta: meta, outputPrefix: OUTPUT_PREFIX, connection: {} }));
      writeFileSync(`${base}.DeleteTask.json`, JSON.stringify({ taskCategory: SLEEP, resourceMeta: meta, connection: {} }));
      files.set(server.label, { CreateTask: `${base}.CreateTask.json`, GetTask: `${base}.GetTask.json`, DeleteTask: `${base}.DeleteTask.json` });
    },
    async run(server, method, settings) {
      const file = files.get(server.label)?.[method];
      const run = await runProcess(harness.loadgen, [
        "-addr",
        server.address,
        "-descriptors",
        descriptors,
        "-method",
        method === "Check" ? "grpc.health.v1.Health/Check" : method,
        "-request-json",
        file ? `@${file}` : "{}",
        "-c",
        String(settings.concurrency),
        "-conns",
        "1",
        "-d",
        `${settings.durationMs}ms`,
        "-warmup",
        `${settings.warmupMs}ms`,
        "-server-pid",
        String(server.pid),
        "-json",
      ]);
      if (run.code !== 0) throw new Error(`loadgen ${method} against ${server.label} failed:\n${run.stderr}`);
      const r = JSON.parse(run.stdout.trim().split("\n").pop()!) as {
        rps: number;
        p50_ms: number;
        p99_ms: number;
        errors: number;
        server_cpu_us_per_call?: number;
      };
      return { rps: r.rps, p50: r.p50_ms, p99: r.p99_ms, errors: r.errors, cpuUsPerCall: r.server_cpu_us_per_call || undefined };
    },
    close() {},
  };
}

/** The fallback without the harness: one grpc-js channel per server, in this process. */
export function inProcessDriver(): LoadDriver {
  const clients = new Map<string, { calls: Record<BenchMethod, () => Promise<unknown>>; close(): void }>();
  return {
    description: "in-process grpc-js client, 1 channel (the acceptance harness's loadgen is not here)",
    async prepare(server) {
      const tasks = grpcJsClient(AsyncConnectorService, server.address);
      const metadata = grpcJsClient(ConnectorMetadataService, server.address);
      const health = grpcJsClient(Health, server.address);
      const create = createTaskRequest({ type: "sleep", inputs: { seconds: { type: INTEGER, literal: intLiteral(0) } } });
      const { resourceMeta } = await tasks.createTask(create);
      const get = { taskCategory: SLEEP, resourceMeta, outputPrefix: OUTPUT_PREFIX, connection: {} };
      const del = { taskCategory: SLEEP, resourceMeta, connection: {} };
      clients.set(server.label, {
        calls: {
          GetTask: () => tasks.getTask(get),
          CreateTask: () => tasks.createTask(create),
          DeleteTask: () => tasks.deleteTask(del),
          ListConnectors: () => metadata.listConnectors({}),
          Check: () => health.check({ service: "" }),
        },
        close: () => {
          for (const c of [tasks, metadata, health]) c.close();
        },
      });
    },
    run(server, method, settings) {
      return loadInProcess(clients.get(server.label)!.calls[method], server.pid, settings);
    },
    close() {
      for (const c of clients.values()) c.close();
    },
  };
}
