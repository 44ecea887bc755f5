// The service table of issue "How we will know": the executor's unary RPCs at 1, 16 and 64 calls in flight
// over one connection, against every server in the same run, interleaved round by round (the order rotates
// each round) so that the machine's noise falls on all of them alike. Ratios are taken against the Python
// stand-in when it runs, else against the bare grpc-js server.
import { type BenchMethod, type LoadDriver, type LoadResult, METHOD_TITLES, METHODS, mean } from "./load.js";
import type { BenchServer } from "./servers.js";
import { fixed, type Row } from "./table.js";

export interface MatrixSettings {
  readonly rounds: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly concurrency: readonly number[];
  readonly methods: readonly BenchMethod[];
}

/** Go-style durations as the harness takes them ("1s", "500ms", "1.5s"); a bare number is seconds. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)} (use 2s or 500ms)`);
  return m[2] === "ms" ? Number(m[1]) : Number(m[1]) * 1000;
}

/**
 * ROUNDS [2], DURATION [800ms], WARMUP [200ms], CONCURRENCY ["1 16 64"], METHODS [all five; Check is
 * Health Check]: the knobs of the acceptance harness's own comparison script. The defaults keep the table
 * under 3 minutes; figures for docs want ROUNDS=3 DURATION=3s or more on a quiet machine.
 */
export function matrixSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): MatrixSettings {
  const methods = (env["METHODS"] ?? METHODS.join(" ")).split(/\s+/).filter(Boolean);
  for (const m of methods) if (!(METHODS as readonly string[]).includes(m)) throw new Error(`METHODS: unknown method ${m} (known: ${METHODS.join(" ")})`);
  return {
    rounds: Number(env["ROUNDS"] ?? 2),
    durationMs: parseDurationMs(env["DURATION"] ?? "800ms"),
    warmupMs: parseDurationMs(env["WARMUP"] ?? "200ms"),
    concurrency: (env["CONCURRENCY"] ?? "1 16 64").split(/\s+/).filter(Boolean).map(Number),
    methods: methods as BenchMethod[],
  };
}

export interface MatrixResult {
  readonly rows: Row[];
  /** The targets for the fast path against the Python stand-in; empty without the stand-in. */
  readonly targets: Row[];
}

interface Summary {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpu: number | undefined;
  readonly errors: number;
  readonly rounds: string;
}

function summarize(results: readonly LoadResult[]): Summary {
  const cpus = results.map((r) => r.cpuUsPerCall);
  return {
    rps: mean(results.map((r) => r.rps)),
    p50: mean(results.map((r) => r.p50)),
    p99: mean(results.map((r) => r.p99)),
    cpu: cpus.every((c) => c !== undefined) ? mean(cpus as number[]) : undefined,
    errors: results.reduce((n, r) => n + r.errors, 0),
    rounds: results.map((r) => Math.round(r.rps)).join(" / "),
  };
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? fixed(a / b, 2) : "n/a");

export async function runExecutorLoadMatrix(
  servers: readonly BenchServer[],
  baseline: BenchServer,
  driver: LoadDriver,
  settings: MatrixSettings,
  progress: (done: number, total: number) => void = () => undefined,
): Promise<MatrixResult> {
  for (const s of servers) {
    await driver.prepare(s);
    // Warm the JIT and the connection once, so that the first cell measured is not the one that pays for it.
    await driver.run(s, "GetTask", { concurrency: 16, durationMs: 500, warmupMs: 0 });
  }
  const results = new Map<string, LoadResult[]>();
  const key = (method: BenchMethod, c: number, s: BenchServer) => `${method}|${c}|${s.label}`;
  const total = settings.methods.length * settings.concurrency.length * settings.rounds * servers.length;
  let done = 0;
  for (const method of settings.methods) {
    for (const concurrency of settings.concurrency) {
      for (let round = 0; round < settings.rounds; round++) {
        for (let i = 0; i < servers.length; i++) {
          const server = servers[(i + round) % servers.length]!;
          const r = await driver.run(server, method, { concurrency, durationMs: settings.durationMs, warmupMs: settings.warmupMs });
          results.set(key(method, concurrency, server), [...(results.get(key(method, concurrency, server)) ?? []), r]);
          progress(++done, total);
        }
      }
    }
  }

  const base = baseline.label === "Python stand-in" ? "Python" : "bare";
  const rows: Row[] = [];
  const summaries = new Map<string, Summary>();
  for (const method of settings.methods) {
    for (const concurrency of settings.concurrency) {
      const b = summarize(results.get(key(method, concurrency, baseline))!);
      for (const server of servers) {
        const s = summarize(results.get(key(method, concurrency, server))!);
        summaries.set(key(method, concurrency, server), s);
        rows.push({
          method: METHOD_TITLES[method],
          "in flight": concurrency,
          server: server.label,
          "calls/s": Math.round(s.rps),
          "p50 ms": fixed(s.p50, 2),
          "p99 ms": fixed(s.p99, 2),
          "CPU µs/call": fixed(s.cpu, 0),
          [`× ${base} calls/s`]: ratio(s.rps, b.rps),
          [`× ${base} p99`]: ratio(s.p99, b.p99),
          [`× ${base} CPU`]: ratio(s.cpu, b.cpu),
          errors: s.errors,
          "calls/s per round": s.rounds,
        });
      }
    }
  }
  const fast = servers.find((s) => s.label === "flyte-connect, fast path");
  const targets =
    base === "Python" && fast ? targetRows(settings, (m, c) => ({ ours: summaries.get(key(m, c, fast)), python: summaries.get(key(m, c, baseline)) })) : [];
  return { rows, targets };
}

/** Issue 9's targets, checked on the fast path's figures: the worst case of each over the runs measured. */
function targetRows(settings: MatrixSettings, pair: (m: BenchMethod, c: number) => { ours?: Summary; python?: Summary }): Row[] {
  const rows: Row[] = [];
  const loaded = settings.concurrency.filter((c) => c >= 16);
  const check = (target: string, cases: { label: string; value: number | undefined }[], ok: (v: number) => boolean) => {
    const measured = cases.filter((c) => c.value !== undefined && Number.isFinite(c.value)) as { label: string; value: number }[];
    if (measured.length === 0) return;
    rows.push({
      target,
      measured: measured.map((c) => `${c.label} ${fixed(c.value, 2)}×`).join(", "),
      met: measured.every((c) => ok(c.value)) ? "met" : "missed",
    });
  };
  const rpsRatio = (m: BenchMethod, c: number) => {
    const { ours, python } = pair(m, c);
    return ours && python ? ours.rps / python.rps : undefined;
  };
  for (const [method, min] of [
    ["GetTask", 2],
    ["ListConnectors", 2],
    ["CreateTask", 1.5],
  ] as const) {
    if (!settings.methods.includes(method)) continue;
    check(
      `${METHOD_TITLES[method]} calls/s ≥ ${min}× the stand-in at 16 and 64 in flight`,
      loaded.map((c) => ({ label: `c=${c}`, value: rpsRatio(method, c) })),
      (v) => v >= min,
    );
  }
  const cpuCases = settings.methods.flatMap((m) =>
    loaded.map((c) => {
      const { ours, python } = pair(m, c);
      return { label: `${METHOD_TITLES[m]} c=${c}`, value: ours?.cpu !== undefined && python?.cpu ? ours.cpu / python.cpu : undefined };
    }),
  );
  check("CPU per call ≤ 0.5× the stand-in's (16 and 64 in flight)", cpuCases, (v) => v <= 0.5);
  if (settings.concurrency.includes(64)) {
    const p99Cases = settings.methods.map((m) => {
      const { ours, python } = pair(m, 64);
      return { label: METHOD_TITLES[m], value: ours && python ? ours.p99 / python.p99 : undefined };
    });
    check("p99 at 64 in flight ≤ the stand-in's", p99Cases, (v) => v <= 1);
  }
  return rows;
}
