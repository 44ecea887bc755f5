import { create, toBinary } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { createTaskRequest, intLiteral } from "./tasks.js";

/** A sleep CreateTask whose cost is decoding: a literal map of `entries` small entries (250 000: about 12 MB). */
export function largeMapCreate(entries: number): Uint8Array {
  const request = createTaskRequest({ type: "sleep" });
  const map: Record<string, unknown> = {};
  for (let i = 0; i < entries; i++) map[`key-${i}-${"p".repeat(24)}`] = intLiteral(i);
  const literalSchema = CreateTaskRequestSchema.field.inputs.message!.field.literals.message!.field.value.message!;
  request.inputs!.literals.push({
    $typeName: "flyteidl2.task.NamedLiteral",
    name: "m",
    value: create(literalSchema, { value: { case: "map", value: { literals: map as never } } }),
  } as never);
  return toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, request));
}
