import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import S3rver from "s3rver";

/** s3rver: an S3 server from npm, in this process, on a loopback port, storing in a temp directory. */
export interface S3Server {
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

/** s3rver's fixed credentials; the AWS SDK finds them in the environment, as in production. */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" } as const;

export async function startS3Server(buckets: readonly string[]): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), "fc-s3rver-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: buckets.map((name) => ({ name, configs: [] })) });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Azurite's well-known development account (Microsoft publishes this key for the emulator). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** A connection string for Azurite's blob endpoint (or a proxy in front of it), optionally with a wrong key. */
export function azuriteConnectionString(blobPort: number, options: { wrongKey?: boolean } = {}): string {
  const key = options.wrongKey ? Buffer.alloc(64, 1).toString("base64") : AZURITE_KEY;
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${key};BlobEndpoint=http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT};`;
}

/** Azurite (Microsoft's Azure Storage emulator, from npm), blob service only, as a child process, in memory. */
export interface AzuriteServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startAzurite(): Promise<AzuriteServer> {
  const location = mkdtempSync(join(tmpdir(), "fc-azurite-"));
  const main = createRequire(join(process.cwd(), "package.json")).resolve("azurite/dist/src/blob/main.js");
  const child: ChildProcess = spawn(
    process.execPath,
    [main, "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--loose"],
    // In memory; the working directory is a temp one, for anything Azurite might still write there.
    { stdio: ["ignore", "pipe", "pipe"], cwd: location },
  );
  const port = await new Promise<number>((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`Azurite did not start: ${out}`)), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => fail(new Error(`Azurite exited with ${code}: ${out}`)));
  });
  return {
    port,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((ok) => child.once("exit", ok));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(location, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with environment variables set, restoring them after; for SDKs that read credentials from it. */
export async function withEnv<T>(vars: Readonly<Record<string, string | undefined>>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply({ ...vars });
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}
