// Issue 14's bench row: Flyte 1's unary methods take the same handlers, call pipeline and gRPC fast path as
// Flyte 2's, so they should cost the same. AsyncAgentService/GetTask on a finished sleep task (its metadata
// is the same bytes on both generations) and AgentMetadataService/ListAgents, with Flyte 2's GetTask beside
// them, at 16 and 64 in flight over one connection, fast path on and off, interleaved round by round.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AsyncAgentService, AgentMetadataService } from "#idl1/flyteidl/service/agent_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { grpcJsClient } from "../test/helpers/grpc-js-client.js";
import type { Harness } from "../test/interop/harness.js";
import { runProcess } from "../test/interop/run-process.js";
import { createTaskRequest, INTEGER, intLiteral } from "../test/support/tasks.js";
import { loadInProcess, type LoadResult, type LoadSettings, mean } from "./load.js";
import type { BenchServer } from "./servers.js";
import { fixed, type Row } from "./table.js";

const CALLS = [
  { title: "Flyte 1 GetTask", method: "flyteidl.service.AsyncAgentService/GetTask", set: "flyteidl1" },
  { title: "Flyte 1 ListAgents", method: "flyteidl.service.AgentMetadataService/ListAgents", set: "flyteidl1" },
  { title: "Flyte 2 GetTask", method: "flyteidl2.connector.AsyncConnectorService/GetTask", set: "flyteidl2" },
] as const;
type BenchCall = (typeof CALLS)[number];
const LEVELS = [16, 64];
const SLEEP = { name: "sleep", version: 0 };
const OUTPUT_PREFIX = "s3://bench-bucket/bn/flytesnacks/development/rbench/a0/1";

/** Where the loadgen finds the messages: the Flyte 1 and Flyte 2 descriptor sets. */
export interface Flyte1LoadTools {
  readonly harness: Harness | undefined;
  readonly descriptors: { readonly flyteidl1: string; readonly flyteidl2: string };
  readonly workDir: string;
}

type Runner = (call: BenchCall, settings: LoadSettings) => Promise<LoadResult>;

/** One finished sleep task per server, created over Flyte 2; its metadata serves both GetTask requests. */
async function prepare(server: BenchServer, tools: Flyte1LoadTools): Promise<{ runner: Runner; close(): void }> {
  const flyte2 = grpcJsClient(AsyncConnectorService, server.address);
  const { resourceMeta } = await flyte2.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: INTEGER, literal: intLiteral(0) } } }));
  const get = { taskCategory: SLEEP, resourceMeta, outputPrefix: OUTPUT_PREFIX };
  if (tools.harness === undefined) {
    const flyte1 = grpcJsClient(AsyncAgentService, server.address);
    const metadata = grpcJsClient(AgentMetadataService, server.address);
    const calls: Record<BenchCall["title"], () => Promise<unknown>> = {
      "Flyte 1 GetTask": () => flyte1.getTask(get),
      "Flyte 1 ListAgents": () => metadata.listAgents({}),
      "Flyte 2 GetTask": () => flyte2.getTask(get),
    };
    return {
      runner: (call, settings) => loadInProcess(calls[call.title], server.pid, settings),
      close: () => {
        for (const c of [flyte1, flyte2, metadata]) c.close();
      },
    };
  }
  flyte2.close();
  const { harness } = tools;
  mkdirSync(tools.workDir, { recursive: true });
  const getFile = join(tools.workDir, `${server.label.replace(/[^a-z0-9]+/gi, "-")}.flyte1-GetTask.json`);
  writeFileSync(getFile, JSON.stringify({ ...get, resourceMeta: Buffer.from(resourceMeta).toString("base64") }));
  return {
    async runner(call, settings) {
      const run = await runProcess(harness.loadgen, [
        "-addr",
        server.address,
        "-descriptors",
        tools.descriptors[call.set],
        "-method",
        call.method,
        "-request-json",
        call.title.endsWith("GetTask") ? `@${getFile}` : "{}",
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
      if (run.code !== 0) throw new Error(`loadgen ${call.method} against ${server.label} failed:\n${run.stderr}`);
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

/** The rows, with each cell's ratio to Flyte 2's GetTask on the same server and level. */
export async function runFlyte1LoadRows(
  servers: readonly BenchServer[],
  tools: Flyte1LoadTools,
  settings: { rounds: number; durationMs: number; warmupMs: number },
  progress: () => void = () => undefined,
): Promise<Row[]> {
  const prepared = await Promise.all(servers.map((s) => prepare(s, tools)));
  try {
    // Warm each method's JIT and the connection once, so that the first cell measured does not pay for it.
    for (const p of prepared) for (const call of CALLS) await p.runner(call, { concurrency: 16, durationMs: 300, warmupMs: 0 });
    const results = new Map<string, LoadResult[]>();
    const key = (call: BenchCall, c: number, s: number) => `${call.title}|${c}|${s}`;
    // Round by round, every method and server in turn (servers rotating), so that warm-up and the machine's
    // noise fall on all the cells alike rather than on whichever is measured first.
    for (let round = 0; round < settings.rounds; round++) {
      for (const concurrency of LEVELS) {
        for (const call of CALLS) {
          for (let i = 0; i < servers.length; i++) {
            const s = (i + round) % servers.length;
            const r = await prepared[s]!.runner(call, { concurrency, durationMs: settings.durationMs, warmupMs: settings.warmupMs });
            results.set(key(call, concurrency, s), [...(results.get(key(call, concurrency, s)) ?? []), r]);
            progress();
          }
        }
      }
    }
    const rows: Row[] = [];
    for (const concurrency of LEVELS) {
      for (const call of CALLS) {
        servers.forEach((server, s) => {
          const rs = results.get(key(call, concurrency, s))!;
          const flyte2 = results.get(key(CALLS[2], concurrency, s))!;
          const cpu = rs.every((r) => r.cpuUsPerCall !== undefined) ? mean(rs.map((r) => r.cpuUsPerCall!)) : undefined;
          const cpu2 = flyte2.every((r) => r.cpuUsPerCall !== undefined) ? mean(flyte2.map((r) => r.cpuUsPerCall!)) : undefined;
          const rps = mean(rs.map((r) => r.rps));
          rows.push({
            method: call.title,
            "in flight": concurrency,
            server: server.label,
            "calls/s": Math.round(rps),
            "p99 ms": fixed(mean(rs.map((r) => r.p99)), 2),
            "CPU µs/call": fixed(cpu, 0),
            "× Flyte 2 GetTask calls/s": fixed(rps / mean(flyte2.map((r) => r.rps)), 2),
            "× Flyte 2 GetTask CPU": cpu !== undefined && cpu2 !== undefined ? fixed(cpu / cpu2, 2) : "n/a",
            errors: rs.reduce((n, r) => n + r.errors, 0),
            "calls/s per round": rs.map((r) => Math.round(r.rps)).join(" / "),
          });
        });
      }
    }
    return rows;
  } finally {
    for (const p of prepared) p.close();
  }
}
