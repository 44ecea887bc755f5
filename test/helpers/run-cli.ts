import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

/** A `flyte-connect` child process, started as a user starts it, with its output collected. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr contains the text (or rejects if the process exits first). */
  waitForStderr(text: string | RegExp): Promise<void>;
  /** Resolves with the exit code; a death by signal resolves with 128 + the signal number. */
  exited: Promise<number>;
}

const ROOT = path.resolve(__dirname, "../..");

/** Runs `node --import tsx src/cli/main.ts <args>` in the repository root. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) {
      if (w.test(err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const exited = new Promise<number>((resolve) => {
    child.on("close", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : signal === "SIGKILL" ? 137 : 128)));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
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
