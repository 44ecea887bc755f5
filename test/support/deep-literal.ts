import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { createTaskRequest } from "./tasks.js";

/** Protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

const lenField = (field: number, bytes: Uint8Array): Buffer => Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(bytes.length)]), bytes]);

/**
 * A sleep CreateTask whose input `x` is a literal collection nested `depth` times, in binary and in JSON,
 * built without recursion (the point is what the server does with it).
 */
export function deepLiteralCreateTask(depth: number): { binary: Buffer; json: string } {
  const base = create(CreateTaskRequestSchema, createTaskRequest({ type: "sleep" }));
  base.inputs = undefined;
  // Literal{scalar{primitive{integer: 1}}}: fields 1 → 1 → 1 (varint 1).
  let literal: Buffer = lenField(1, lenField(1, Buffer.from([0x08, 0x01])));
  for (let i = 0; i < depth; i++) literal = lenField(2, lenField(1, literal)); // Literal.collection{literals: [literal]}
  const inputs = lenField(1, Buffer.concat([lenField(1, Buffer.from("x")), lenField(2, literal)])); // Inputs.literals[NamedLiteral]
  const binary = Buffer.concat([Buffer.from(toBinary(CreateTaskRequestSchema, base)), lenField(1, inputs)]);
  const inner = `${'{"collection":{"literals":['.repeat(depth)}{"scalar":{"primitive":{"integer":"1"}}}${"]}}".repeat(depth)}`;
  const { inputs: _ignored, ...rest } = toJson(CreateTaskRequestSchema, base) as Record<string, unknown>;
  const json = JSON.stringify(rest).replace(/}$/, `,"inputs":{"literals":[{"name":"x","value":${inner}}]}}`);
  return { binary, json };
}
