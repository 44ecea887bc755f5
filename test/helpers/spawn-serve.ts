import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

/** `flyte-connect serve` running in a child process, as a replica of the service runs in production. */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** `127.0.0.1:port`, for gRPC clients. */
  readonly address: string;
  /** Everything the process wrote, for diagnosing a failure. */
  output(): string;
  /** Sends a signal and resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

const ROOT = path.resolve(__dirname, "../..");

/**
 * Starts `node --import tsx src/cli/main.ts serve` on a free loopback port with the given extra arguments,
 * and resolves once it logs the address it serves on.
 */
export function spawnServe(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--host", "127.0.0.1", "--port", "0", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /"url":"http:\/\/([^"]+)"/.exec(output);
      if (m) {
        resolve({
          child,
          address: m[1]!,
          output: () => output,
          kill: async (signal) => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            await exited;
          },
        });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    child.once("exit", (code) => reject(new Error(`flyte-connect serve exited with ${code} before serving:\n${output}`)));
  });
}
