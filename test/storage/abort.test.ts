import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { status } from "@grpc/grpc-js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { DEFAULT_STORAGE_CONFIG } from "../../src/config/storage-config.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { StorageError } from "../../src/storage/storage-error.js";
import { createStorage } from "../../src/storage/storage.js";
import { taskStorage } from "../../src/storage/task-storage.js";
import { startService } from "../../src/testing/start-service.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import { BigOutputConnector } from "./support/big-output-connector.js";
import { S3RVER_CREDENTIALS, withEnv } from "./support/stores.js";

/** A store that accepts connections and never answers: only the call's signal can end a request to it. */
let blackHole: Server;
let endpoint: string;
const sockets = new Set<Socket>();
beforeAll(async () => {
  blackHole = createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((ok) => blackHole.listen(0, "127.0.0.1", ok));
  endpoint = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((ok) => blackHole.close(ok));
});

test.each([
  ["s3://flyte-data/run/0", { s3Endpoint: "", s3ForcePathStyle: true }],
  ["gs://flyte-data/run/0", { gcsEndpoint: "" }],
])("ctx.storage honours the call's signal: a write to a store that never answers (%s) ends with the abort", async (prefix, partial) => {
  const config = { ...DEFAULT_STORAGE_CONFIG, ...Object.fromEntries(Object.entries(partial).map(([k, v]) => [k, v === "" ? endpoint : v])) };
  const storage = taskStorage(createStorage(config), prefix, AbortSignal.timeout(500));
  const started = Date.now();
  const err = await withEnv(S3RVER_CREDENTIALS, () => storage.write("outputs.pb", "x")).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).failure).toBe("aborted");
  expect((err as StorageError).message).toMatch(new RegExp(`^cannot write ${prefix.replace(/[/.]/g, "\\$&")}/outputs\\.pb: `));
  // Ended by the signal, well before any SDK timeout or retry budget.
  expect(Date.now() - started).toBeLessThan(5_000);
});

test("an offload interrupted by the caller's deadline answers DEADLINE_EXCEEDED, never SUCCEEDED", async () => {
  const svc = await startService({
    registry: createConnectorRegistry([new BigOutputConnector()]),
    config: { storage: { s3Endpoint: endpoint, s3ForcePathStyle: true } },
  });
  const client = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    const got = await withEnv(S3RVER_CREDENTIALS, () =>
      grpcStatusOf(
        client.getTask(
          {
            taskCategory: { name: "big_output", version: 0 },
            resourceMeta: Buffer.from(JSON.stringify({ bytes: 5 * 1024 * 1024 })),
            outputPrefix: "s3://flyte-data/deadline/0",
          },
          { timeoutMs: 1_500 },
        ),
      ),
    );
    expect(got.code).toBe(status.DEADLINE_EXCEEDED);
  } finally {
    client.close();
    await svc.close();
  }
});
