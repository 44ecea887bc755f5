import { fromBinary } from "@bufbuild/protobuf";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { LiteralMapSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { DEFAULT_STORAGE_CONFIG } from "../../src/config/storage-config.js";
import { createStorage } from "../../src/storage/storage.js";
import { startBundledReplica, type BundledReplica } from "../helpers/bundled-cli.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, STRING, stringLiteral } from "../support/tasks.js";
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
 * The CLI bundle as the image holds it (bundle and chunks, no node_modules), configured by environment only:
 * the echo demo's 5,000,000-byte output goes to outputs.pb on S3, GCS and Azure, through the SDKs bundled
 * into its chunks.
 */
let s3: S3Server;
let azurite: AzuriteServer;
let gcs: GcsServer;
let replica: BundledReplica;

beforeAll(async () => {
  [s3, azurite, gcs] = await Promise.all([startS3Server(["flyte-data"]), startAzurite(), startGcsServer({ buckets: ["flyte-data"] })]);
  const { BlobServiceClient } = await import("@azure/storage-blob");
  await BlobServiceClient.fromConnectionString(azuriteConnectionString(azurite.port)).getContainerClient("flyte-data").create();
  replica = await startBundledReplica({
    ...S3RVER_CREDENTIALS,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    FLYTE_CONNECT_S3_ENDPOINT: s3.endpoint,
    FLYTE_CONNECT_S3_FORCE_PATH_STYLE: "true",
    FLYTE_CONNECT_GCS_ENDPOINT: gcs.endpoint,
    AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(azurite.port),
    FLYTE_CONNECT_DASHBOARD: "false",
    // Inputs above the 4 MiB default, so that the output is too large to answer inline.
    FLYTE_CONNECT_MAX_MESSAGE_BYTES: String(16 * 1024 * 1024),
  });
}, 120_000);
afterAll(async () => {
  await replica?.stop();
  await Promise.all([s3?.close(), azurite?.close(), gcs?.close()]);
});

test.each(["s3://flyte-data/img/a0/0", "gs://flyte-data/img/a0/0", `abfss://flyte-data@${AZURITE_ACCOUNT}.dfs.core.windows.net/img/a0/0`])(
  "%s: outputs.pb written by the image's bundle holds the whole string",
  async (prefix) => {
    const text = "i".repeat(5_000_000);
    const client = grpcJsClient(AsyncConnectorService, replica.address);
    try {
      const req = createTaskRequest({
        type: "echo",
        inputs: { s: { type: STRING, literal: stringLiteral(text) } },
        outputs: { s: STRING },
        outputPrefix: prefix,
      });
      const created = await client.createTask(req, { timeoutMs: 20_000 });
      expect(created.resourceMeta.length).toBeLessThan(64 * 1024);
      const got = await client.getTask(
        { taskCategory: { name: "echo", version: 0 }, resourceMeta: created.resourceMeta, outputPrefix: prefix },
        { timeoutMs: 10_000 },
      );
      expect([got.resource?.phase, got.resource?.outputs]).toEqual([TaskExecution_Phase.SUCCEEDED, undefined]);
      const storage = createStorage({ ...DEFAULT_STORAGE_CONFIG, s3Endpoint: s3.endpoint, s3ForcePathStyle: true, gcsEndpoint: gcs.endpoint });
      const bytes = await withEnv({ ...S3RVER_CREDENTIALS, AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(azurite.port) }, () =>
        storage.read(`${prefix}/outputs.pb`, { maxBytes: 16 * 1024 * 1024 }),
      );
      const value = fromBinary(LiteralMapSchema, bytes).literals["s"]?.value;
      const read = value?.case === "scalar" && value.value.value.case === "primitive" ? value.value.value.value.value : undefined;
      expect(read?.case === "stringValue" && read.value === text).toBe(true);
    } finally {
      client.close();
    }
  },
  30_000,
);
