/**
 * Issue 11's timing target for a hostile client: the normal clients' p99 with a hostile client beside them
 * stays within 2x of a run without it. One flyte-connect process (the built CLI, default configuration, so
 * production limits); normal clients in this process (health Check, GetTask, CreateTask, each over its own
 * connection, a call every INTERVAL ms); the hostile client in a child process (zero-window GetTaskLogs
 * streams, FIN without GOAWAY, rapid resets, a maximum-size CreateTask every second: test/support/hostile-client.ts).
 * Rounds interleave A (normal alone) and B (normal + hostile), A/B/A/B, so that a change of the machine's load
 * hits both; the ratio is of the medians over rounds. test/ops/hostile-load.test.ts checks that nothing is lost.
 *
 * `npm run bench hostile`; ROUNDS (default 2), DURATION (ms per run, default 10000), INTERVAL (default 20),
 * PARTS (which abuse, default all: zeroWindow,fin,reset,maxSize), to see what costs what; HOSTILE_NICE (default
 * 0) runs the hostile client at that nice value, to see what its own CPU costs the service on a small machine;
 * the service runs with `npm start`'s node options; SERVICE_NODE_ARGS replaces them (`SERVICE_NODE_ARGS=` for node's defaults).
 */
import { join } from "node:path";
import { HOSTILE_PARTS, hostileClientInChild, type HostilePart, type HostileResult } from "../test/support/hostile-client.js";
import { percentile, startSteadyClients, STEADY_METHODS, type MethodTally, type SteadyMethod } from "../test/support/steady-clients.js";
import { ROOT, startFlyteConnect, staleBuildWarning } from "./servers.js";
import { fixed, type Row } from "./table.js";

/** One run: what the normal clients got, and what the hostile client did (B only). */
interface Run {
  readonly round: number;
  readonly hostile: boolean;
  readonly tallies: Record<SteadyMethod, MethodTally>;
  readonly hostileResult?: HostileResult;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const pooled = (run: Run): number[] => STEADY_METHODS.flatMap((m) => run.tallies[m].latencies);
const lost = (run: Run): number => STEADY_METHODS.reduce((n, m) => n + run.tallies[m].sent - run.tallies[m].ok, 0);

export interface HostileBenchResult {
  readonly runs: Row[];
  readonly summary: Row[];
  readonly notes: string[];
}

export async function runHostileBench(): Promise<HostileBenchResult> {
  const rounds = Number(process.env["ROUNDS"] ?? 2);
  const durationMs = Number(process.env["DURATION"] ?? 10_000);
  const intervalMs = Number(process.env["INTERVAL"] ?? 20);
  const parts = (process.env["PARTS"]?.split(",") ?? HOSTILE_PARTS) as HostilePart[];
  const hostileNice = Number(process.env["HOSTILE_NICE"] ?? 0);
  const server = await startFlyteConnect({ grpcFastPath: true });
  const url = `http://${server.address}`;
  const runs: Run[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const hostile of [false, true]) {
        let child: ReturnType<typeof hostileClientInChild> | undefined;
        if (hostile) {
          // The hostile client outlasts the measured window on both sides.
          child = hostileClientInChild(url, { durationMs: durationMs + 2_000, parts }, join(ROOT, "test/support/hostile-cli.ts"), hostileNice);
          await child.started;
          await new Promise((r) => setTimeout(r, 1_000));
        }
        const normal = await startSteadyClients(server.address, { intervalMs });
        await new Promise((r) => setTimeout(r, durationMs));
        const tallies = await normal.stop();
        const hostileResult = child === undefined ? undefined : await child.done;
        runs.push({ round, hostile, tallies, hostileResult });
        // The hostile client's last maximum-size requests are answered by now; let the heap settle too.
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
  } finally {
    await server.stop();
  }

  const rows: Row[] = runs.map((run) => {
    const row: Row = { round: run.round, clients: run.hostile ? "normal + hostile" : "normal alone" };
    for (const m of STEADY_METHODS) {
      row[`${m} p50 ms`] = fixed(percentile(run.tallies[m].latencies, 50), 1);
      row[`${m} p99 ms`] = fixed(percentile(run.tallies[m].latencies, 99), 1);
    }
    row["calls"] = STEADY_METHODS.reduce((n, m) => n + run.tallies[m].sent, 0);
    row["lost"] = lost(run);
    const h = run.hostileResult;
    row["maximum-size CreateTasks (OK/sent)"] = h ? `${h.maxSizeAnswers["0"] ?? 0}/${h.maxSizeSent}` : "";
    return row;
  });
  const alone = runs.filter((r) => !r.hostile);
  const withHostile = runs.filter((r) => r.hostile);
  const summary: Row[] = ["all three", ...STEADY_METHODS].map((which) => {
    const lat = (run: Run) => (which === "all three" ? pooled(run) : run.tallies[which as SteadyMethod].latencies);
    const a50 = median(alone.map((r) => percentile(lat(r), 50)));
    const b50 = median(withHostile.map((r) => percentile(lat(r), 50)));
    const a99 = median(alone.map((r) => percentile(lat(r), 99)));
    const b99 = median(withHostile.map((r) => percentile(lat(r), 99)));
    return {
      calls: which,
      "p50 alone ms": fixed(a50, 1),
      "p50 with hostile ms": fixed(b50, 1),
      "p99 alone ms": fixed(a99, 1),
      "p99 with hostile ms": fixed(b99, 1),
      "p99 ratio (target ≤ 2)": fixed(b99 / a99, 2),
    };
  });
  const stale = staleBuildWarning();
  const notes = [
    `${rounds} rounds of ${durationMs / 1000} s each, A/B interleaved; normal clients call every ${intervalMs} ms each; hostile parts: ${parts.join(", ")}${hostileNice > 0 ? ` at nice ${hostileNice}` : ""}; ratios are of the medians over rounds.`,
    ...(stale ? [stale] : []),
  ];
  return { runs: rows, summary, notes };
}
