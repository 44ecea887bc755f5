// The service's benchmarks: the executor's RPCs over one gRPC connection against flyte-connect with and
// without its gRPC fast path, the Python stand-in and a bare grpc-js server (bench/executor-load-bench.ts);
// GetTask over Connect JSON and gRPC-Web; then cold start to SERVING and idle RSS of the CLI.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { writeDescriptorSets } from "../test/interop/descriptor-set.js";
import { findHarness, type Harness } from "../test/interop/harness.js";
import { matrixSettingsFromEnv, runExecutorLoadMatrix } from "./executor-load-bench.js";
import { runFlyte1LoadRows } from "./flyte1-load-bench.js";
import { inProcessDriver, loadgenDriver, loadInProcess, type LoadSettings, mean } from "./load.js";
import { type BenchServer, findPythonStandIn, ROOT, rssMiB, staleBuildWarning, startBareGrpc, startFlyteConnect, startPythonStandIn } from "./servers.js";
import { fixed, type Row } from "./table.js";
import { join } from "node:path";
import { createTaskRequest, INTEGER, intLiteral } from "../test/support/tasks.js";
import { grpcJsClient } from "../test/helpers/grpc-js-client.js";

export interface Section {
  readonly title: string;
  readonly rows: Row[];
  readonly notes: string[];
}

const dots = (done: number, total: number) => process.stderr.write(done === total ? ".\n" : ".");

export async function runServiceBench(): Promise<Section[]> {
  const settings = matrixSettingsFromEnv();
  const notes: string[] = [];
  const stale = staleBuildWarning();
  if (stale) notes.push(`Warning: ${stale}.`);

  const harness = findHarness(ROOT);
  const standIn = harness.found ? findPythonStandIn() : harness;
  const descriptorSets = writeDescriptorSets(ROOT);
  const descriptors = descriptorSets.flyteidl2;
  const servers: BenchServer[] = [];
  try {
    servers.push(await startFlyteConnect({ grpcFastPath: true }), await startFlyteConnect({ grpcFastPath: false }));
    if (standIn.found) servers.push(await startPythonStandIn(standIn.value.script, descriptors));
    else notes.push(`The Python stand-in column was skipped: ${standIn.reason}.`);
    servers.push(await startBareGrpc());
    const driver = harness.found ? loadgenDriver(harness.value, descriptors, join(ROOT, ".tmp/bench")) : inProcessDriver();
    if (!harness.found) notes.push(`Load from an in-process grpc-js client instead of the harness's grpc-go loadgen: ${harness.reason}.`);
    const baseline = servers.find((s) => s.label === "Python stand-in") ?? servers.find((s) => s.label === "bare grpc-js")!;
    notes.push(
      `${driver.description}; ${settings.rounds} rounds of ${settings.durationMs} ms after ${settings.warmupMs} ms warm-up, servers interleaved; ` +
        `means over rounds; ratios against the ${baseline.label}; CPU is the server process's user+system time over the measured window.`,
    );
    process.stderr.write(`service bench: ${servers.map((s) => s.label).join(", ")}\n`);
    const matrix = await runExecutorLoadMatrix(servers, baseline, driver, settings, dots);
    driver.close();

    const sections: Section[] = [{ title: "Executor RPCs over one gRPC connection (h2c), every server in one run", rows: matrix.rows, notes }];
    if (matrix.targets.length > 0)
      sections.push({ title: "Issue 9 targets: flyte-connect with the fast path against the Python stand-in", rows: matrix.targets, notes: [] });
    sections.push(
      await flyte1Section(
        servers.filter((s) => s.label.startsWith("flyte-connect")),
        harness.found ? harness.value : undefined,
        descriptorSets,
        settings,
      ),
    );
    sections.push(
      await connectProtocolsSection(
        servers.filter((s) => s.label.startsWith("flyte-connect")),
        settings,
      ),
    );
    for (const s of servers.splice(0)) await s.stop();
    sections.push(await startupSection());
    return sections;
  } finally {
    for (const s of servers) await s.stop();
  }
}

/**
 * GetTask over the protocols the fast path leaves to connect (Connect JSON and gRPC-Web, HTTP/1.1), from
 * in-process connect-node clients: with the fast path on and off they must be the same.
 */
async function connectProtocolsSection(servers: readonly BenchServer[], settings: { rounds: number; durationMs: number; warmupMs: number }): Promise<Section> {
  const protocols = [
    ["Connect JSON, HTTP/1.1", (baseUrl: string) => createConnectTransport({ baseUrl, httpVersion: "1.1" })],
    ["gRPC-Web, HTTP/1.1", (baseUrl: string) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
  ] as const;
  const targets = await Promise.all(
    servers.map(async (server) => {
      const grpc = grpcJsClient(AsyncConnectorService, server.address);
      const { resourceMeta } = await grpc.createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: INTEGER, literal: intLiteral(0) } } }));
      grpc.close();
      const request = { taskCategory: { name: "sleep", version: 0 }, resourceMeta, outputPrefix: "s3://bench-bucket/x/a0/1" };
      return protocols.map(([name, transport]) => {
        const client = createClient(AsyncConnectorService, transport(`http://${server.address}`));
        return { server, protocol: name, call: () => client.getTask(request) };
      });
    }),
  );
  // One level, in longer cells than the gRPC table's: an HTTP/1.1 client in this process is slow to drive,
  // and shorter cells at 64 in flight finished almost no calls on a loaded machine.
  const levels = [16];
  const durationMs = Math.max(settings.durationMs, 2000);
  // HTTP/1.1 runs one call per connection: open the pool's sockets before anything is measured.
  for (const t of targets.flat()) await Promise.all(Array.from({ length: Math.max(...levels) }, t.call));
  const rows: Row[] = [];
  for (const concurrency of levels) {
    const load: LoadSettings = { concurrency, durationMs, warmupMs: settings.warmupMs };
    const acc = new Map<string, { rps: number[]; p99: number[]; cpu: number[]; errors: number }>();
    for (let round = 0; round < settings.rounds; round++) {
      const flat = targets.flat();
      for (let i = 0; i < flat.length; i++) {
        const t = flat[(i + round) % flat.length]!;
        const r = await loadInProcess(t.call, t.server.pid, load);
        const k = `${t.protocol}|${t.server.label}`;
        const a = acc.get(k) ?? { rps: [], p99: [], cpu: [], errors: 0 };
        a.errors += r.errors;
        a.rps.push(r.rps);
        a.p99.push(r.p99);
        if (r.cpuUsPerCall !== undefined) a.cpu.push(r.cpuUsPerCall);
        acc.set(k, a);
        process.stderr.write(".");
      }
    }
    for (const [name] of protocols) {
      const off = acc.get(`${name}|flyte-connect, no fast path`);
      for (const server of servers) {
        const a = acc.get(`${name}|${server.label}`)!;
        rows.push({
          protocol: name,
          "in flight": concurrency,
          server: server.label,
          "calls/s": Math.round(mean(a.rps)),
          "p99 ms": fixed(mean(a.p99), 2),
          "CPU µs/call": fixed(mean(a.cpu), 0),
          "× no fast path calls/s": off ? fixed(mean(a.rps) / mean(off.rps), 2) : "",
          errors: a.errors,
        });
      }
    }
  }
  process.stderr.write("\n");
  return {
    title: "GetTask over Connect JSON and gRPC-Web (in-process connect-node clients, one HTTP/1.1 pool)",
    rows,
    notes: [`${settings.rounds} rounds of ${durationMs} ms per cell, interleaved; the load generator shares the cores with the servers.`],
  };
}

/** Issue 14: Flyte 1's unary methods on the same fast path and pipeline, beside Flyte 2's GetTask. */
async function flyte1Section(
  servers: readonly BenchServer[],
  harness: Harness | undefined,
  descriptors: { flyteidl1: string; flyteidl2: string },
  settings: { rounds: number; durationMs: number; warmupMs: number },
): Promise<Section> {
  const rows = await runFlyte1LoadRows(servers, { harness, descriptors, workDir: join(ROOT, ".tmp/bench") }, settings, () => process.stderr.write("."));
  process.stderr.write("\n");
  return {
    title: "Flyte 1 unary methods over one gRPC connection (h2c), beside Flyte 2's GetTask",
    rows,
    notes: [
      `${harness ? "grpc-go loadgen from the acceptance harness" : "in-process grpc-js client"}, 1 connection; ${settings.rounds} rounds of ${settings.durationMs} ms after ${settings.warmupMs} ms warm-up, servers interleaved; ` +
        "GetTask on one finished sleep task (created over Flyte 2; the metadata is the same bytes on Flyte 1); ratios against Flyte 2's GetTask on the same server.",
    ],
  };
}

/** A fresh process until health says SERVING; idle RSS a second later, with no traffic. */
async function startupSection(): Promise<Section> {
  const rows: Row[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await startFlyteConnect({ grpcFastPath: true });
    await new Promise((r) => setTimeout(r, 1000));
    rows.push({ run: i + 1, "cold start to SERVING ms": Math.round(s.startedMs), "idle RSS MiB": rssMiB(s.pid).toFixed(1) });
    await s.stop();
  }
  return { title: "Cold start and idle memory (node dist/bin/flyte-connect.mjs serve)", rows, notes: [] };
}
