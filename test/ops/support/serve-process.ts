import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

/** `flyte-connect serve` in a child process, as one replica runs in production. */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:port` */
  readonly url: string;
  /** `127.0.0.1:port`, for grpc-js. */
  readonly address: string;
  readonly metricsUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const ROOT = path.resolve(__dirname, "../../..");

/**
 * Starts `node --import tsx src/cli/main.ts serve` on free loopback ports (service and metrics) with the
 * given extra arguments and environment, and resolves once it logs that it is serving.
 */
export function startServeProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`flyte-connect serve did not start in time:\n${output}`));
    }, 30_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const line = output.split("\n").find((l) => l.includes('"flyte-connect is serving"'));
      if (!line) return;
      child.stdout!.off("data", onData);
      child.stdout!.on("data", (more: Buffer) => (output += more.toString()));
      clearTimeout(timer);
      const { url, metricsUrl } = JSON.parse(line) as { url: string; metricsUrl: string };
      resolve({ child, url, address: new URL(url).host, metricsUrl, output: () => output, exited });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`flyte-connect serve exited with ${code} before serving:\n${output}`));
    });
  });
}
