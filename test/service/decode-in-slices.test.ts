import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { decodeInSlices } from "../../src/service/pipeline/large-request/decode-in-slices.js";
import { createTaskRequest, INTEGER, intLiteral, STRING, stringLiteral } from "../support/tasks.js";

/**
 * A large CreateTask (a literal map of 40k entries and a collection beside it, under 1 MiB; the benchmark-sized case is in docs/operations.md) decodes to
 * exactly what fromBinary gives, while timers keep running during the decode: the event loop is given back.
 */
function largeRequest(entries: number) {
  const request = createTaskRequest({
    type: "echo",
    inputs: { n: { type: INTEGER, literal: intLiteral(7) }, s: { type: STRING, literal: stringLiteral("x") } },
  });
  const map: Record<string, unknown> = {};
  for (let i = 0; i < entries; i++) map[`k${i}`] = intLiteral(i);
  const list = Array.from({ length: entries / 4 }, (_, i) => stringLiteral(`v${i}`));
  request.inputs!.literals.push(
    {
      $typeName: "flyteidl2.task.NamedLiteral",
      name: "m",
      value: create(CreateTaskRequestSchema.field.inputs.message!.field.literals.message!.field.value.message!, {
        value: { case: "map", value: { literals: map as never } },
      }),
    } as never,
    {
      $typeName: "flyteidl2.task.NamedLiteral",
      name: "l",
      value: create(CreateTaskRequestSchema.field.inputs.message!.field.literals.message!.field.value.message!, {
        value: { case: "collection", value: { literals: list as never } },
      }),
    } as never,
  );
  return toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, request));
}

test("decodes a large CreateTask exactly as fromBinary, yielding to the event loop on the way", async () => {
  const bytes = largeRequest(40_000);
  expect(bytes.length).toBeGreaterThan(512 * 1024);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const sliced = await decodeInSlices(CreateTaskRequestSchema, bytes, { sliceMs: 1 });
  clearInterval(timer);
  expect(sliced).toEqual(fromBinary(CreateTaskRequestSchema, bytes));
  // A one-shot decode runs no timer at all; a decode in 1 ms slices runs them between slices.
  expect(ticks).toBeGreaterThan(5);
});

test("small messages and odd encodings are plain fromBinary", async () => {
  const small = toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, createTaskRequest({ type: "echo" })));
  expect(await decodeInSlices(CreateTaskRequestSchema, small)).toEqual(fromBinary(CreateTaskRequestSchema, small));
  // The template sent twice (protobuf merges singular messages): still the same answer.
  const twice = new Uint8Array([...small, ...small]);
  expect(await decodeInSlices(CreateTaskRequestSchema, twice, { smallBytes: 1 })).toEqual(fromBinary(CreateTaskRequestSchema, twice));
});
