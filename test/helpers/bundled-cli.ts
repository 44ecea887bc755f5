import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "../..");

/** A `flyte-connect serve` replica running the CLI bundle. */
export interface BundledReplica {
  /** `127.0.0.1:port`, for gRPC clients. */
  readonly address: string;
  /** Stops it (SIGTERM), removes its directory and returns everything it wrote. */
  stop(): Promise<string>;
}

/**
 * Bundles the CLI with scripts/bundle-cli.mjs into a fresh directory and runs it from there, as the image
 * does: the bundle and its chunks and nothing else — no node_modules, no sources — with only the given
 * environment (and PATH).
 */
export async function startBundledReplica(env: Record<string, string>): Promise<BundledReplica> {
  const dir = mkdtempSync(path.join(tmpdir(), "flyte-connect-image-"));
  await promisify(execFile)(process.execPath, ["scripts/bundle-cli.mjs"], {
    cwd: ROOT,
    // As deploy/Dockerfile builds it: the cloud storage SDKs in the bundle's chunks, since the image has no node_modules.
    env: { ...process.env, FLYTE_CONNECT_BUNDLE_DIR: path.join(dir, "dist/bin"), FLYTE_CONNECT_BUNDLE_STORAGE_SDKS: "1" },
  });
  const child = spawn(process.execPath, [path.join(dir, "dist/bin/flyte-connect.mjs"), "serve", "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0"], {
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
      const m = /"url":"http:\/\/([^"]+)"/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the bundled CLI exited with ${code} before serving:\n${output}`)));
  });
  return {
    address,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
      return output;
    },
  };
}
