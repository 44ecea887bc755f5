import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema, GetTaskRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { requestBytesOf, requestHead } from "../../src/service/large-calls/request-head.js";
import { createTaskRequest, STRING, stringLiteral } from "../support/tasks.js";

/**
 * The head of a large request: what the call pipeline reads (task type, connection, output prefix) decoded
 * from the request's small fields only, with the whole request attached for the worker.
 */
const big = "x".repeat(200 * 1024);

test("a CreateTask's head keeps its routing fields and leaves out large inputs and a large custom", () => {
  const req = createTaskRequest({
    type: "echo",
    version: 2,
    inputs: { s: { type: STRING, literal: stringLiteral(big) } },
    custom: { query: big },
    secrets: { token: "t0ken" },
  });
  const bytes = toBinary(CreateTaskRequestSchema, req);
  const head = requestHead(CreateTaskRequestSchema, bytes)!;
  expect(head.template?.type).toBe("echo");
  expect(head.template?.taskTypeVersion).toBe(2);
  expect(head.template?.id?.name).toBe(req.template?.id?.name);
  expect(head.connection?.secrets).toEqual({ token: "t0ken" });
  expect(head.outputPrefix).toBe(req.outputPrefix);
  expect(head.taskExecutionMetadata).toEqual(req.taskExecutionMetadata);
  // The large parts are not in it, and it is small.
  expect(head.inputs?.literals ?? []).toHaveLength(0);
  expect(head.template?.custom?.["query"]).toBeUndefined();
  expect(toBinary(CreateTaskRequestSchema, head).byteLength).toBeLessThan(64 * 1024);
  // The request it stands for is the whole one.
  expect(requestBytesOf(head)).toBe(bytes);
  expect(fromBinary(CreateTaskRequestSchema, requestBytesOf(head)!)).toEqual(req);
});

test("a small request's head is the whole message", () => {
  const req = create(GetTaskRequestSchema, { taskCategory: { name: "sleep", version: 0 }, resourceMeta: new Uint8Array([1, 2, 3]), outputPrefix: "s3://b/p" });
  const bytes = toBinary(GetTaskRequestSchema, req);
  expect(requestHead(GetTaskRequestSchema, bytes)).toEqual(req);
});

test("many small fields fill the head only up to its budget", () => {
  // 30 000 small literals of 20 bytes: each fits a head field, together they are far over the head's size.
  const inputs = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`i${i}`, { type: STRING, literal: stringLiteral("v".repeat(12)) }]));
  const req = createTaskRequest({ type: "echo", inputs });
  const bytes = toBinary(CreateTaskRequestSchema, req);
  expect(bytes.byteLength).toBeGreaterThan(512 * 1024);
  const head = requestHead(CreateTaskRequestSchema, bytes)!;
  expect(head.template?.type).toBe("echo");
  expect(toBinary(CreateTaskRequestSchema, head).byteLength).toBeLessThanOrEqual((256 + 64) * 1024 + 64);
});

test("bytes it cannot walk have no head: the caller decodes them as it would without a worker", () => {
  const bytes = toBinary(CreateTaskRequestSchema, createTaskRequest({ type: "echo", inputs: { s: { type: STRING, literal: stringLiteral(big) } } }));
  expect(requestHead(CreateTaskRequestSchema, bytes.subarray(0, bytes.byteLength - 10))).toBeUndefined();
  // A group (wire type 3) where protobuf 3 has none.
  expect(requestHead(CreateTaskRequestSchema, new Uint8Array([(9 << 3) | 3, 0]))).toBeUndefined();
});
