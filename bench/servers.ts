// The servers the service benchmarks compare, each in its own process so that its CPU and memory are its
// own: flyte-connect (the built CLI, default configuration) with and without its gRPC fast path, a bare
// grpc-js server, and the acceptance harness's Python grpc.aio stand-in for flyte-sdk's connector service.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { execFileSync } from "node:child_process";
import { Health, HealthCheckResponse_ServingStatus } from "../src/gen/health/v1/health_pb.js";
import { grpcJsClient } from "../test/helpers/grpc-js-client.js";
import { harnessDir, SYSTEM_PYTHON, type Lookup } from "../test/interop/harness.js";
import { startNodeOptions } from "../scripts/start-node-options.js";

export const ROOT = resolve(import.meta.dirname, "..");
const CLI = resolve(ROOT, "dist/bin/flyte-connect.mjs");

export interface BenchServer {
  readonly label: string;
  /** `127.0.0.1:port`. */
  readonly address: string;
  readonly pid: number;
  /** From spawn until it answered its first call. */
  readonly startedMs: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
}

/** Resolves once health Check("") answers SERVING; rejects if the process exits first. */
async function waitServing(child: ChildProcess, address: string): Promise<void> {
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = `exited with ${code ?? signal}`));
  const health = grpcJsClient(Health, address);
  try {
    for (;;) {
      if (exited) throw new Error(`server ${exited} before serving`);
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

/** Resolves with the first value `test` finds in a stdout line; later output is drained unread. */
function firstLine<T>(child: ChildProcess, test: (line: string) => T | undefined): Promise<T> {
  return new Promise((resolveLine, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const line of lines) {
        const found = test(line);
        if (found === undefined) continue;
        child.stdout!.off("data", onData);
        child.stdout!.resume();
        resolveLine(found);
        return;
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

/**
 * `node dist/bin/flyte-connect.mjs serve` in its default configuration (metrics, per-RPC info log lines,
 * limits, dashboard). The log goes to /dev/null: written and formatted as in production, read by nobody,
 * so that the bench process, which shares the cores, does not parse it.
 */
export async function startFlyteConnect(options: { grpcFastPath: boolean }): Promise<BenchServer> {
  const port = await freePort();
  const t0 = performance.now();
  // The service runs with npm start's node options, as deployed; SERVICE_NODE_ARGS replaces them (`""`: node's
  // defaults), for the service alone, not for the bench's clients.
  const nodeArgs = process.env["SERVICE_NODE_ARGS"]?.split(" ").filter((a) => a !== "") ?? startNodeOptions(ROOT);
  const child = spawn(process.execPath, [...nodeArgs, CLI, "serve", "--host", "127.0.0.1", "--port", String(port), "--metrics-port", "0"], {
    cwd: ROOT,
    env: { ...process.env, FLYTE_CONNECT_GRPC_FAST_PATH: String(options.grpcFastPath) },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const address = `127.0.0.1:${port}`;
  await waitServing(child, address);
  return {
    label: options.grpcFastPath ? "flyte-connect, fast path" : "flyte-connect, no fast path",
    address,
    pid: child.pid!,
    startedMs: performance.now() - t0,
    stop: stopper(child),
  };
}

/** bench/bare-grpc-server.ts: the connector's work over grpc-js and nothing else. */
export async function startBareGrpc(): Promise<BenchServer> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", resolve(ROOT, "bench/bare-grpc-server.ts")], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const port = await firstLine(child, (line) => (line.startsWith("{") ? (JSON.parse(line) as { port: number }).port : undefined));
  return { label: "bare grpc-js", address: `127.0.0.1:${port}`, pid: child.pid!, startedMs: performance.now() - t0, stop: stopper(child) };
}

/** The harness's Python stand-in, if it and Debian's grpcio, protobuf and prometheus_client are here. */
export function findPythonStandIn(): Lookup<{ script: string }> {
  const script = join(harnessDir(ROOT), "python-anchor/anchor.py");
  if (!existsSync(script))
    return { found: false, reason: `no Python stand-in at ${script} (the acceptance harness is not beside this repo; set FLYTE_HARNESS_DIR)` };
  try {
    execFileSync(SYSTEM_PYTHON, ["-c", "import grpc, google.protobuf, prometheus_client"], { stdio: "pipe" });
  } catch {
    return { found: false, reason: `${SYSTEM_PYTHON} cannot import grpc, google.protobuf and prometheus_client (run the harness's build.sh)` };
  }
  return { found: true, value: { script } };
}

/** The stand-in as its harness runs it: a free port, no Prometheus exposition (metrics still recorded). */
export async function startPythonStandIn(script: string, descriptors: string): Promise<BenchServer> {
  const t0 = performance.now();
  const child = spawn(SYSTEM_PYTHON, [script, "--port", "0", "--prometheus_port", "0", "--descriptors", descriptors], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await firstLine(child, (line) => /ANCHOR_LISTENING port=(\d+)/.exec(line)?.[1]);
  const address = `127.0.0.1:${port}`;
  await waitServing(child, address);
  return { label: "Python stand-in", address, pid: child.pid!, startedMs: performance.now() - t0, stop: stopper(child) };
}

/** VmRSS of a process, MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** A warning when the CLI bundle is older than a source file: the bench would measure yesterday's code. */
export function staleBuildWarning(): string | undefined {
  if (!existsSync(CLI)) return `${CLI} is missing: run npm run build first`;
  const built = statSync(CLI).mtimeMs;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce(
      (t, e) => Math.max(t, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs),
      0,
    );
  return newest(resolve(ROOT, "src")) > built ? "dist/bin/flyte-connect.mjs is older than src/: run npm run build for current figures" : undefined;
}
