import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CreateTaskRequestSchema,
  CreateTaskResponseSchema,
  GetTaskRequestSchema,
  GetTaskResponseSchema,
  type CreateTaskResponse,
  type GetTaskResponse,
} from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { LiteralMapSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { EchoConnector } from "../../src/connectors/demo/echo-connector.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, STRING, stringLiteral } from "../support/tasks.js";
import { S3RVER_CREDENTIALS, startS3Server, withEnv, type S3Server } from "./support/stores.js";

/**
 * The user story: the echo demo given a 5,000,000-byte string. CreateTask's metadata stays under
 * 64 KiB (echo writes outputs.pb with ctx.storage), GetTask answers SUCCEEDED within the 4 MiB the executor
 * receives, and outputs.pb under the prefix holds the whole string; from grpc-js and from Python grpcio, with
 * local files and with an S3-compatible store.
 */

const TEXT = "0123456789".repeat(500_000);
const run = promisify(execFile);
let svc: RunningService;
let s3: S3Server;
const root = mkdtempSync(join(tmpdir(), "fc-echo-large-"));

beforeAll(async () => {
  s3 = await startS3Server(["flyte-data"]);
  svc = await startService({
    registry: createConnectorRegistry([new EchoConnector()]),
    // Inputs above the 4 MiB default, so that the output is too large to answer inline (maxResponseBytes, 4 MiB).
    config: { storage: { s3Endpoint: s3.endpoint, s3ForcePathStyle: true }, maxMessageBytes: 16 * 1024 * 1024 },
  });
});
afterAll(async () => {
  await svc?.close();
  await s3?.close();
  rmSync(root, { recursive: true, force: true });
});

function requests(outputPrefix: string) {
  const createReq = createTaskRequest({ type: "echo", inputs: { s: { type: STRING, literal: stringLiteral(TEXT) } }, outputs: { s: STRING }, outputPrefix });
  const getTemplate = create(GetTaskRequestSchema, { taskCategory: { name: "echo", version: 0 }, outputPrefix });
  return { createReq, getTemplate };
}

function expectSmallAndWhole(created: CreateTaskResponse, got: GetTaskResponse, outputsPb: Uint8Array) {
  expect(TEXT.length).toBe(5_000_000);
  expect(created.resourceMeta.length).toBeLessThan(64 * 1024);
  expect(got.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
  expect(got.resource?.outputs).toBeUndefined();
  expect(toBinary(GetTaskResponseSchema, got).length).toBeLessThan(4 * 1024 * 1024);
  const value = fromBinary(LiteralMapSchema, outputsPb).literals["s"]?.value;
  const text = value?.case === "scalar" && value.value.value.case === "primitive" ? value.value.value.value.value : undefined;
  expect(text?.case === "stringValue" && text.value === TEXT).toBe(true);
}

test("grpc-js, local files: small metadata, SUCCEEDED under 4 MiB, outputs.pb holds the whole string", async () => {
  const prefix = `file://${join(root, "grpc-js", "a0", "0")}`;
  const { createReq, getTemplate } = requests(prefix);
  const client = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    const created = await client.createTask(createReq, { timeoutMs: 10_000 });
    const got = await client.getTask({ ...getTemplate, resourceMeta: created.resourceMeta }, { timeoutMs: 10_000 });
    expectSmallAndWhole(created, got, readFileSync(join(root, "grpc-js", "a0", "0", "outputs.pb")));
  } finally {
    client.close();
  }
});

test("grpc-js, S3 (s3rver): the same through an S3-compatible store", async () => {
  const prefix = "s3://flyte-data/ab/run-echo/a0/0";
  const { createReq, getTemplate } = requests(prefix);
  const client = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    await withEnv(S3RVER_CREDENTIALS, async () => {
      const created = await client.createTask(createReq, { timeoutMs: 10_000 });
      const got = await client.getTask({ ...getTemplate, resourceMeta: created.resourceMeta }, { timeoutMs: 10_000 });
      const { S3Client, GetObjectCommand } = await import("@aws-sdk/client-s3");
      const s3Client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: "us-east-1" });
      const object = await s3Client.send(new GetObjectCommand({ Bucket: "flyte-data", Key: "ab/run-echo/a0/0/outputs.pb" }));
      expectSmallAndWhole(created, got, await object.Body!.transformToByteArray());
    });
  } finally {
    client.close();
  }
});

test("Python grpcio (default 4 MiB receive limit), local files: the same", async () => {
  const dir = join(root, "python");
  const prefix = join(dir, "a0", "0");
  const { createReq, getTemplate } = requests(prefix);
  const work = mkdtempSync(join(tmpdir(), "fc-echo-py-"));
  writeFileSync(join(work, "create-req.bin"), toBinary(CreateTaskRequestSchema, createReq));
  writeFileSync(join(work, "get-template.bin"), toBinary(GetTaskRequestSchema, getTemplate));
  try {
    await run("/usr/bin/python3", [join(__dirname, "echo_large_client.py"), svc.address, join(work, "create-req.bin"), join(work, "get-template.bin"), work], {
      timeout: 30_000,
    });
    const created = fromBinary(CreateTaskResponseSchema, readFileSync(join(work, "create.bin")));
    const got = fromBinary(GetTaskResponseSchema, readFileSync(join(work, "get.bin")));
    expectSmallAndWhole(created, got, readFileSync(join(prefix, "outputs.pb")));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("a connector returning metadata over maxResourceMetaBytes fails CreateTask INTERNAL with what to do", async () => {
  // The echo demo keeps outputs up to 16 KiB in its metadata; with an 8 KiB limit that is too much.
  const small = await startService({ registry: createConnectorRegistry([new EchoConnector()]), config: { maxResourceMetaBytes: 8 * 1024 } });
  const client = grpcJsClient(AsyncConnectorService, small.address);
  try {
    const req = createTaskRequest({ type: "echo", inputs: { s: { type: STRING, literal: stringLiteral("m".repeat(12 * 1024)) } }, outputs: { s: STRING } });
    const err = await client.createTask(req).then(
      () => undefined,
      (e: { code: number; details: string }) => e,
    );
    expect(err?.code).toBe(13);
    expect(decodeURIComponent(err?.details ?? "")).toMatch(
      /^failed to create echo task with error:\n connector Echo Connector returned 16\.\d KiB of resource metadata, over the 8\.0 KiB limit \(maxResourceMetaBytes\)\. .*write large data under the output prefix with ctx\.storage/,
    );
  } finally {
    client.close();
    await small.close();
  }
});
