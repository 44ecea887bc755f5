// GetTask throughput and latency of the service over gRPC (h2c) and Connect JSON, next to a bare grpc-js
// server doing the same work, measured in one run; then cold start to SERVING and idle RSS of the CLI.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../src/gen/health/v1/health_pb.js";
import { grpcJsClient } from "../test/helpers/grpc-js-client.js";
import type { Row } from "./table.js";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = resolve(ROOT, "dist/bin/flyte-connect.mjs");

interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  readonly startedMs: number;
}

function waitForLine(child: ChildProcess, test: (line: string) => number | undefined): Promise<number> {
  return new Promise((resolveLine, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const line of lines) {
        const port = test(line);
        if (port === undefined) continue;
        // From here on the output is drained unread: parsing every per-call log line would load this
        // process, which is also the load generator.
        child.stdout!.off("data", onData);
        child.stdout!.resume();
        resolveLine(port);
        return;
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function startOurs(): Promise<Server> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--host", "127.0.0.1", "--metrics-port", "0", "--log-level", "info"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await waitForLine(child, (line) => {
    if (!line.startsWith("{")) return undefined;
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    return entry.msg === "flyte-connect is serving" && entry.url ? Number(new URL(entry.url).port) : undefined;
  });
  await waitServing(port);
  return { child, port, startedMs: performance.now() - t0 };
}

async function waitServing(port: number): Promise<void> {
  const health = grpcJsClient(Health, `127.0.0.1:${port}`);
  try {
    for (;;) {
      try {
        if ((await health.check({ service: "" }, { timeoutMs: 1000 })).status === HealthCheckResponse_ServingStatus.SERVING) return;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  } finally {
    health.close();
  }
}

async function startBare(): Promise<Server> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", resolve(ROOT, "bench/bare-grpc-server.ts")], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const port = await waitForLine(child, (line) => (line.startsWith("{") ? (JSON.parse(line) as { port: number }).port : undefined));
  return { child, port, startedMs: performance.now() - t0 };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Runs `concurrency` loops of calls for `ms`, returns calls/s and latency percentiles. */
async function load(call: () => Promise<unknown>, concurrency: number, ms: number): Promise<{ rps: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]!;
  return { rps: latencies.length / (ms / 1000), p50: pct(50), p99: pct(99) };
}

const META = new TextEncoder().encode('{"seconds": 1, "started_at_ms": 0}');
const REQUEST = { taskCategory: { name: "sleep", version: 0 }, resourceMeta: META, outputPrefix: "s3://b/x/0" };

export async function runServiceBench(options: { durationMs?: number } = {}): Promise<{ throughput: Row[]; startup: Row[] }> {
  const durationMs = options.durationMs ?? 3000;
  const ours = await startOurs();
  const bare = await startBare();
  const throughput: Row[] = [];
  try {
    const oursGrpc = grpcJsClient(AsyncConnectorService, `127.0.0.1:${ours.port}`);
    const bareGrpc = grpcJsClient(AsyncConnectorService, `127.0.0.1:${bare.port}`);
    const oursJson = createClient(AsyncConnectorService, createConnectTransport({ baseUrl: `http://127.0.0.1:${ours.port}`, httpVersion: "1.1" }));
    const targets = [
      ["bare grpc-js server, gRPC h2c", () => bareGrpc.getTask(REQUEST)],
      ["flyte-connect, gRPC h2c", () => oursGrpc.getTask(REQUEST)],
      ["flyte-connect, Connect JSON HTTP/1.1", () => oursJson.getTask(REQUEST)],
    ] as const;
    for (const [, call] of targets) await load(call, 16, 500); // warm-up: JIT, connections
    for (const concurrency of [1, 16, 64]) {
      // Interleaved rounds so that machine noise hits all three alike.
      const results = new Map<string, { rps: number[]; p50: number[]; p99: number[] }>();
      for (let round = 0; round < 2; round++) {
        for (const [name, call] of targets) {
          const r = await load(call, concurrency, durationMs / 2);
          const acc = results.get(name) ?? { rps: [], p50: [], p99: [] };
          acc.rps.push(r.rps);
          acc.p50.push(r.p50);
          acc.p99.push(r.p99);
          results.set(name, acc);
        }
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const baseRps = mean(results.get(targets[0][0])!.rps);
      for (const [name, r] of results) {
        throughput.push({
          target: name,
          concurrency,
          "calls/s": Math.round(mean(r.rps)),
          "p50 ms": mean(r.p50).toFixed(2),
          "p99 ms": mean(r.p99).toFixed(2),
          "× bare grpc-js": (mean(r.rps) / baseRps).toFixed(2),
        });
      }
    }
    oursGrpc.close();
    bareGrpc.close();
  } finally {
    ours.child.kill("SIGTERM");
    bare.child.kill("SIGTERM");
  }

  // Cold start: a fresh process until health says SERVING; idle RSS a second later, with no traffic.
  const startup: Row[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await startOurs();
    await new Promise((r) => setTimeout(r, 1000));
    startup.push({ run: i + 1, "cold start to SERVING ms": Math.round(s.startedMs), "idle RSS MB": rssMb(s.child.pid!).toFixed(1) });
    s.child.kill("SIGTERM");
    await new Promise((r) => s.child.once("exit", r));
  }
  return { throughput, startup };
}
