import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { GetTaskResponseSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { LiteralMapSchema, LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import type { StorageConfig } from "../../src/config/storage-config.js";
import { DEFAULT_STORAGE_CONFIG } from "../../src/config/storage-config.js";
import { EchoConnector } from "../../src/connectors/demo/echo-connector.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { StorageError } from "../../src/storage/storage-error.js";
import { createStorage, type Storage } from "../../src/storage/storage.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient, grpcStatusOf, type GrpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, STRING, stringLiteral } from "../support/tasks.js";
import { BigOutputConnector, bigOutputText } from "./support/big-output-connector.js";
import { startCuttingProxy, type CuttingProxy } from "./support/cutting-proxy.js";
import { startGcsServer, type GcsServer } from "./support/gcs-server.js";
import {
  AZURITE_ACCOUNT,
  azuriteConnectionString,
  S3RVER_CREDENTIALS,
  startAzurite,
  startS3Server,
  withEnv,
  type AzuriteServer,
  type S3Server,
} from "./support/stores.js";

/**
 * Outputs offloaded to outputs.pb and offloaded inputs, through the real service over gRPC (grpc-js, which
 * receives at most 4 MiB as the executor's grpc-go does), against a real server of each store's API: s3rver
 * (S3), Azurite (Azure Blob), our GCS JSON API server (GCS) and local files. For each: a large output written
 * and read back as a LiteralMap, a retried GetTask, an offloaded input, a missing object, a permission error,
 * and the store going away in the middle of the upload.
 */

const OUTPUT_BYTES = 5 * 1024 * 1024;
const MAX_RESPONSE = 4 * 1024 * 1024;
const registry = () => createConnectorRegistry([new EchoConnector(), new BigOutputConnector()]);

/** How one store is set up for the service, and the variants of it the failure cases need. */
interface Backend {
  readonly name: string;
  /** A fresh prefix (URI or path) for one test. */
  prefix(test: string): string;
  readonly config: Partial<StorageConfig>;
  /** Environment the service's SDK reads its credentials from. */
  readonly env: Record<string, string | undefined>;
  /** A prefix and setup under which writes are refused for lack of permission; undefined: cannot be set up here. */
  denied(): Promise<{ prefix: string; config: Partial<StorageConfig>; env: Record<string, string | undefined>; cleanup(): Promise<void> } | undefined>;
  /**
   * s3rver, unlike S3, keeps the part of a PUT body that arrived before the connection broke (it streams the
   * body into the object file); S3 itself stores an object only once the whole body has arrived.
   */
  readonly keepsPartialUploads?: boolean;
  /** A setup whose connection to the store breaks in the middle of an upload. */
  broken(): Promise<{ prefix: string; config: Partial<StorageConfig>; env: Record<string, string | undefined>; cleanup(): Promise<void> } | undefined>;
}

let s3: S3Server;
let azurite: AzuriteServer;
let gcs: GcsServer;
const localRoot = mkdtempSync(join(tmpdir(), "fc-storage-"));

beforeAll(async () => {
  [s3, azurite, gcs] = await Promise.all([
    startS3Server(["flyte-data"]),
    startAzurite(),
    startGcsServer({ buckets: ["flyte-data"], readOnlyBuckets: ["flyte-readonly"] }),
  ]);
  // Azurite starts without containers; Flyte's bucket exists before any task runs.
  await withEnv({ AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(azurite.port) }, async () => {
    const { BlobServiceClient } = await import("@azure/storage-blob");
    await BlobServiceClient.fromConnectionString(azuriteConnectionString(azurite.port)).getContainerClient("flyte-data").create();
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([s3?.close(), azurite?.close(), gcs?.close()]);
  rmSync(localRoot, { recursive: true, force: true });
});

let seq = 0;
const unique = (test: string) => `${test}-${process.pid}-${++seq}`;

/** A tmpfs mounted for a test (root only); undefined where mounting is not allowed. */
function mountTmpfs(options: string): { dir: string; unmount(): void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), "fc-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount() {
      execFileSync("umount", [dir], { stdio: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const backends: Backend[] = [
  {
    name: "local files",
    prefix: (test) => `file://${join(localRoot, unique(test))}`,
    config: {},
    env: {},
    async denied() {
      const ro = mountTmpfs("ro,size=1m");
      return ro && { prefix: ro.dir, config: {}, env: {}, cleanup: async () => ro.unmount() };
    },
    async broken() {
      // A disk that fills up in the middle of the write: ENOSPC.
      const small = mountTmpfs("size=1m");
      return small && { prefix: join(small.dir, "run", "0"), config: {}, env: {}, cleanup: async () => small.unmount() };
    },
  },
  {
    name: "S3 (s3rver)",
    prefix: (test) => `s3://flyte-data/${unique(test)}/a0/0`,
    get config() {
      return { s3Endpoint: s3.endpoint, s3ForcePathStyle: true };
    },
    env: S3RVER_CREDENTIALS,
    keepsPartialUploads: true,
    async denied() {
      return {
        prefix: `s3://flyte-data/${unique("denied")}`,
        config: this.config,
        env: { ...S3RVER_CREDENTIALS, AWS_ACCESS_KEY_ID: "NOT-A-KEY" },
        cleanup: async () => undefined,
      };
    },
    async broken() {
      const proxy = await startCuttingProxy({ host: "127.0.0.1", port: s3.port }, 1024 * 1024);
      return {
        prefix: `s3://flyte-data/${unique("broken")}`,
        config: { ...this.config, s3Endpoint: `http://127.0.0.1:${proxy.port}` },
        env: S3RVER_CREDENTIALS,
        cleanup: () => proxy.close(),
      };
    },
  },
  {
    name: "Azure Blob (Azurite)",
    prefix: (test) => `abfs://flyte-data@${AZURITE_ACCOUNT}.dfs.core.windows.net/${unique(test)}/a0/0`,
    config: {},
    get env() {
      return { AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(azurite.port) };
    },
    async denied() {
      return {
        prefix: `abfs://flyte-data@${AZURITE_ACCOUNT}.dfs.core.windows.net/${unique("denied")}`,
        config: {},
        env: { AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(azurite.port, { wrongKey: true }) },
        cleanup: async () => undefined,
      };
    },
    async broken() {
      const proxy: CuttingProxy = await startCuttingProxy({ host: "127.0.0.1", port: azurite.port }, 1024 * 1024);
      return {
        prefix: `abfs://flyte-data@${AZURITE_ACCOUNT}.dfs.core.windows.net/${unique("broken")}`,
        config: {},
        env: { AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(proxy.port) },
        cleanup: () => proxy.close(),
      };
    },
  },
  {
    name: "GCS (our JSON API server)",
    prefix: (test) => `gs://flyte-data/${unique(test)}/a0/0`,
    get config() {
      return { gcsEndpoint: gcs.endpoint };
    },
    env: {},
    async denied() {
      return { prefix: `gs://flyte-readonly/${unique("denied")}`, config: this.config, env: {}, cleanup: async () => undefined };
    },
    async broken() {
      const port = Number(new URL(gcs.endpoint).port);
      const proxy = await startCuttingProxy({ host: "127.0.0.1", port }, 1024 * 1024);
      return {
        prefix: `gs://flyte-data/${unique("broken")}`,
        config: { gcsEndpoint: `http://127.0.0.1:${proxy.port}` },
        env: {},
        cleanup: () => proxy.close(),
      };
    },
  },
];

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe.each(backends)("$name", (backend) => {
  let svc: RunningService;
  let client: GrpcJsClient<typeof AsyncConnectorService>;
  /** The test's own view of the store, through the same SDKs, to check what the service wrote. */
  let storage: Storage;
  const env = () => backend.env;

  beforeAll(async () => {
    svc = await startService({ registry: registry(), config: { storage: backend.config } });
    client = grpcJsClient(AsyncConnectorService, svc.address);
    storage = createStorage({ ...DEFAULT_STORAGE_CONFIG, ...backend.config });
  });
  afterAll(async () => {
    client?.close();
    await svc?.close();
  });

  const getBig = (c: GrpcJsClient<typeof AsyncConnectorService>, outputPrefix: string, bytes = OUTPUT_BYTES) =>
    c.getTask({ taskCategory: { name: "big_output", version: 0 }, resourceMeta: Buffer.from(JSON.stringify({ bytes })), outputPrefix }, { timeoutMs: 10_000 });

  test("a 5 MiB output is written to outputs.pb before SUCCEEDED, the response has no inline outputs, and the file is the LiteralMap", async () => {
    const prefix = backend.prefix("big");
    const got = await withEnv(env(), () => getBig(client, prefix));
    expect([got.resource?.phase, got.resource?.message]).toEqual([TaskExecution_Phase.SUCCEEDED, ""]);
    expect(got.resource?.outputs).toBeUndefined();
    expect(toBinary(GetTaskResponseSchema, got).length).toBeLessThan(MAX_RESPONSE);
    const bytes = await withEnv(env(), () => storage.read(`${prefix}/outputs.pb`, { maxBytes: 64 * 1024 * 1024 }));
    const map = fromBinary(LiteralMapSchema, bytes);
    expect(Object.keys(map.literals)).toEqual(["o0"]);
    const value = map.literals["o0"]?.value;
    expect(value?.case === "scalar" && value.value.value.case === "primitive" ? value.value.value.value.value : undefined).toEqual({
      case: "stringValue",
      value: bigOutputText(OUTPUT_BYTES),
    });
  });

  test("a retried GetTask writes the same bytes again and answers the same", async () => {
    const prefix = backend.prefix("retry");
    const first = await withEnv(env(), () => getBig(client, prefix));
    const before = sha(await withEnv(env(), () => storage.read(`${prefix}/outputs.pb`, { maxBytes: 64 * 1024 * 1024 })));
    const second = await withEnv(env(), () => getBig(client, prefix));
    const after = sha(await withEnv(env(), () => storage.read(`${prefix}/outputs.pb`, { maxBytes: 64 * 1024 * 1024 })));
    expect(second).toEqual(first);
    expect(after).toBe(before);
  });

  test("a connector may ask for outputs.pb for small outputs too", async () => {
    const prefix = backend.prefix("explicit");
    const got = await withEnv(env(), () =>
      client.getTask({
        taskCategory: { name: "big_output", version: 0 },
        resourceMeta: Buffer.from(JSON.stringify({ bytes: 10, offload: true })),
        outputPrefix: prefix,
      }),
    );
    expect([got.resource?.phase, got.resource?.outputs]).toEqual([TaskExecution_Phase.SUCCEEDED, undefined]);
    const map = fromBinary(LiteralMapSchema, await withEnv(env(), () => storage.read(`${prefix}/outputs.pb`, { maxBytes: 1024 })));
    expect(Object.keys(map.literals)).toEqual(["o0"]);
  });

  test("an offloaded input literal is read from the store", async () => {
    const uri = `${backend.prefix("input")}/inputs/s.pb`;
    const text = "offloaded ".repeat(100);
    await withEnv(env(), () => storage.write(uri, toBinary(LiteralSchema, create(LiteralSchema, stringLiteral(text)))));
    const req = createTaskRequest({
      type: "echo",
      inputs: { s: { type: STRING, literal: { value: { case: "offloadedMetadata", value: { uri, sizeBytes: 1000n, inferredType: STRING } } } } },
      outputs: { s: STRING },
    });
    const created = await withEnv(env(), () => client.createTask(req));
    const got = await client.getTask({ taskCategory: { name: "echo", version: 0 }, resourceMeta: created.resourceMeta, outputPrefix: req.outputPrefix });
    expect(got.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
    const literal = got.resource?.outputs?.literals[0]?.value;
    expect(toBinary(LiteralSchema, literal!)).toEqual(toBinary(LiteralSchema, create(LiteralSchema, stringLiteral(text))));
  });

  test("a missing offloaded input is INVALID_ARGUMENT naming the input and the URI", async () => {
    const uri = `${backend.prefix("missing")}/inputs/none.pb`;
    const req = createTaskRequest({
      type: "echo",
      inputs: { s: { type: STRING, literal: { value: { case: "offloadedMetadata", value: { uri, sizeBytes: 10n, inferredType: STRING } } } } },
      outputs: { s: STRING },
    });
    const got = await withEnv(env(), () => grpcStatusOf(client.createTask(req)));
    expect(got.code).toBe(status.INVALID_ARGUMENT);
    expect(got.details).toContain(`input 's': cannot read offloaded literal at ${uri}: cannot read ${uri}:`);
    // The test's storage says why: the store reported the object missing.
    await expect(withEnv(env(), () => storage.read(uri, { maxBytes: 1024 }))).rejects.toMatchObject({ failure: "not-found" });
  });

  test("an offloaded input over maxOffloadedLiteralBytes is refused before it is read whole", async () => {
    const uri = `${backend.prefix("huge-input")}/inputs/s.pb`;
    await withEnv(env(), () => storage.write(uri, toBinary(LiteralSchema, create(LiteralSchema, stringLiteral("x".repeat(4096))))));
    const small = await startService({ registry: registry(), config: { storage: { ...backend.config, maxOffloadedLiteralBytes: 1024 } } });
    const c = grpcJsClient(AsyncConnectorService, small.address);
    try {
      const req = createTaskRequest({
        type: "echo",
        inputs: { s: { type: STRING, literal: { value: { case: "offloadedMetadata", value: { uri, sizeBytes: 4100n, inferredType: STRING } } } } },
        outputs: { s: STRING },
      });
      const got = await withEnv(env(), () => grpcStatusOf(c.createTask(req)));
      expect(got.code).toBe(status.INVALID_ARGUMENT);
      expect(got.details).toMatch(/input 's': cannot read offloaded literal at .*: the object is (\d+ bytes, over|larger than) the 1024-byte limit/);
    } finally {
      c.close();
      await small.close();
    }
  });

  test("a write the store refuses for lack of permission is RETRYABLE_FAILED naming the URI and the cause", async () => {
    const setup = await backend.denied();
    if (setup === undefined) {
      console.warn(`${backend.name}: a read-only store cannot be set up on this machine (tmpfs mount refused); the permission case is not run`);
      return;
    }
    const denied = await startService({ registry: registry(), config: { storage: setup.config } });
    const c = grpcJsClient(AsyncConnectorService, denied.address);
    try {
      const got = await withEnv(setup.env, () => getBig(c, setup.prefix));
      expect(got.resource?.phase).toBe(TaskExecution_Phase.RETRYABLE_FAILED);
      expect(got.resource?.message).toMatch(
        new RegExp(`^the task's outputs could not be stored: cannot write ${escape(setup.prefix)}/outputs\\.pb: .*(403|EROFS)`),
      );
      expect(got.resource?.outputs).toBeUndefined();
    } finally {
      c.close();
      await denied.close();
      await setup.cleanup();
    }
  });

  test("the store going away mid-upload is RETRYABLE_FAILED, never SUCCEEDED over a partial outputs.pb", async () => {
    const setup = await backend.broken();
    if (setup === undefined) {
      console.warn(`${backend.name}: a small file system cannot be mounted on this machine; the mid-write case is not run`);
      return;
    }
    const broken = await startService({ registry: registry(), config: { storage: setup.config } });
    const c = grpcJsClient(AsyncConnectorService, broken.address);
    try {
      const got = await withEnv(setup.env, () => getBig(c, setup.prefix));
      expect(got.resource?.phase).toBe(TaskExecution_Phase.RETRYABLE_FAILED);
      expect(got.resource?.message).toMatch(new RegExp(`^the task's outputs could not be stored: cannot write ${escape(setup.prefix)}/outputs\\.pb: `));
      // Read from the store itself, not through the cut connection.
      const left = await withEnv(env(), () => storage.read(`${setup.prefix}/outputs.pb`, { maxBytes: 64 * 1024 * 1024 })).catch((e: unknown) => e);
      if (backend.keepsPartialUploads && !(left instanceof StorageError)) {
        // What s3rver kept is the cut-off part, which the executor never reads: the attempt is retried under a new prefix.
        expect((left as Uint8Array).length).toBeLessThan(OUTPUT_BYTES);
      } else {
        expect(left).toBeInstanceOf(StorageError);
        expect((left as StorageError).failure).toBe("not-found");
      }
      if (backend.name === "local files") expect(readdirSync(setup.prefix)).toEqual([]);
    } finally {
      c.close();
      await broken.close();
      await setup.cleanup();
    }
  }, 30_000);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

test("a local output prefix that is a plain path works, directories are created", async () => {
  const svc = await startService({ registry: registry() });
  const client = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    const dir = join(localRoot, "plain", "run", "0");
    const got = await client.getTask({
      taskCategory: { name: "big_output", version: 0 },
      resourceMeta: Buffer.from(JSON.stringify({ bytes: OUTPUT_BYTES })),
      outputPrefix: dir,
    });
    expect(got.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
    expect(existsSync(join(dir, "outputs.pb"))).toBe(true);
  } finally {
    client.close();
    await svc.close();
  }
});
