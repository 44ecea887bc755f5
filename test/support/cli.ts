import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import * as path from "node:path";

/**
 * The one way tests run the `flyte-connect` CLI: as a user runs it, in a child process, from the TypeScript
 * sources (`node --import tsx src/cli/main.ts`), with its output collected.
 */

const ROOT = path.resolve(__dirname, "../..");

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr, for diagnosing a failure. */
  output(): string;
  /** Resolves once stderr contains the text (or rejects if the process exits first). */
  waitForStderr(text: string | RegExp): Promise<void>;
  /** The exit code; a death by signal is 128 + the signal's number, as a shell reports it. */
  readonly exited: Promise<number>;
}

/** Runs `flyte-connect <args>` in the repository root. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let all = "";
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    all += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    all += d.toString();
    for (const w of [...waiters]) {
      if (w.test(err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const exited = new Promise<number>((resolve) => {
    child.on("close", (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    output: () => all,
    exited,
    waitForStderr(text) {
      const test = (s: string) => (typeof text === "string" ? s.includes(text) : text.test(s));
      if (test(err)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        void exited.then((code) => reject(new Error(`exited with ${code} before stderr showed ${String(text)}:\n${err}`)));
      });
    },
  };
}

/** `flyte-connect serve` running in a child process, as one replica runs in production. */
export interface ServeProcess extends CliProcess {
  /** `http://127.0.0.1:port` */
  readonly url: string;
  /** `127.0.0.1:port`, for gRPC clients. */
  readonly address: string;
  /** Absent with `--no-metrics`. */
  readonly metricsUrl?: string;
  /** Sends a signal (unless the process has exited) and resolves with the exit code once it has. */
  kill(signal: NodeJS.Signals): Promise<number>;
}

/**
 * Starts `flyte-connect serve` on free loopback ports (service, and metrics unless `--no-metrics`) with the
 * given extra arguments and environment, and resolves once it logs that it is serving.
 */
export async function startServe(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<ServeProcess> {
  const ports = ["--host", "127.0.0.1", "--port", "0", ...(args.includes("--no-metrics") ? [] : ["--metrics-port", "0"])];
  const cli = runCli(["serve", ...ports, ...args], env);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = cli
      .stdout()
      .split("\n")
      .find((l) => l.startsWith("{") && l.includes('"flyte-connect is serving"'));
    if (line) {
      const { url, metricsUrl } = JSON.parse(line) as { url: string; metricsUrl?: string };
      return {
        ...cli,
        url,
        address: new URL(url).host,
        ...(metricsUrl === undefined ? {} : { metricsUrl }),
        async kill(signal) {
          if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill(signal);
          return cli.exited;
        },
      };
    }
    const code = await Promise.race([cli.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 50))]);
    if (code !== undefined) throw new Error(`flyte-connect serve exited with ${code} before serving:\n${cli.output()}`);
    if (Date.now() > deadline) {
      cli.child.kill("SIGKILL");
      throw new Error(`flyte-connect serve did not start within ${timeoutMs} ms:\n${cli.output()}`);
    }
  }
}
