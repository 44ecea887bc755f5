import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

/** Runs `flyte-connect <args>` from the TypeScript sources, as a separate process. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", resolve(ROOT, "src/cli/main.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolveExit) => child.on("exit", (code, signal) => resolveExit(code ?? signal ?? "unknown")));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits for the service's "serving" log line and returns its URL. */
export async function waitForServing(cli: CliProcess, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of cli.stdout().split("\n")) {
      if (!line.startsWith("{")) continue;
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "flyte-connect is serving" && entry.url) return entry.url;
    }
    const code = await Promise.race([cli.exited, new Promise((r) => setTimeout(() => r(undefined), 50))]);
    if (code !== undefined) throw new Error(`flyte-connect exited with ${String(code)} before serving:\n${cli.stderr()}`);
  }
  throw new Error(`flyte-connect did not start within ${timeoutMs} ms:\n${cli.stdout()}\n${cli.stderr()}`);
}
