import { create, toBinary } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { LiteralMapSchema, LiteralSchema, PrimitiveSchema, ScalarSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { InputsSchema, NamedLiteralSchema } from "#idl/flyteidl2/task/common_pb.js";
import { DEFAULT_CONFIG } from "../../src/config/config.js";
import { createTaskRequest, INTEGER, intLiteral } from "./tasks.js";

// Large CreateTask requests, for the tests of large-request handling on every path.

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

/** Protobuf varint. */
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

const lenField = (field: number, body: Buffer): Buffer => Buffer.concat([varint((field << 3) | 2), varint(body.length), body]);

const lenTag = (field: number) => (field << 3) | 2;
const ENTRY_TAG = lenTag(LiteralMapSchema.field.literals.number);
const KEY_TAG = lenTag(1);
const VALUE_TAG = lenTag(2);
const SCALAR_TAG = lenTag(LiteralSchema.field.scalar.number);
const PRIMITIVE_TAG = lenTag(ScalarSchema.field.primitive.number);
const INTEGER_TAG = PrimitiveSchema.field.integer.number << 3; // wire type 0: varint
const INT_MAP = { type: { case: "mapValueType", value: INTEGER } } as const;

/** What {@link maxSizeMapCreateTask} built. */
export interface MaxSizeRequest {
  /** The encoded CreateTaskRequest. */
  readonly bytes: Buffer;
  readonly entries: number;
}

/**
 * A sleep CreateTask of just under `maxBytes` (default: just under the service's default message limit, 4 MiB) whose input `m`
 * is a literal map of small integers, declared by the task (`m: dict[str, int]`, `seconds: int` = 0): the
 * most a client may send, and the most decoding and conversion work per byte (issue 11's 900k-entry map).
 * Encoded by hand, entry by entry, so that building it costs the test little next to what the server does.
 */
export function maxSizeMapCreateTask(maxBytes = DEFAULT_CONFIG.maxMessageBytes - 1024): MaxSizeRequest {
  const base = create(
    CreateTaskRequestSchema,
    createTaskRequest({ type: "sleep", inputs: { seconds: { type: INTEGER, literal: intLiteral(0) }, m: { type: INT_MAP } } }),
  );
  base.inputs = undefined;
  const head = Buffer.from(toBinary(CreateTaskRequestSchema, base));
  const seconds = Buffer.from(toBinary(NamedLiteralSchema, create(NamedLiteralSchema, { name: "seconds", value: intLiteral(0) })));
  // Outer framing (inputs, literals[1], its value, Literal.map) adds a few length prefixes: 32 bytes cover them.
  const budget = maxBytes - head.length - seconds.length - 32;
  const out = Buffer.alloc(budget);
  let at = 0;
  let entries = 0;
  const scratch: number[] = [];
  for (let i = 0; ; i++) {
    // map entry {key: "k<i>", value: Literal{scalar{primitive{integer: i}}}}: every part is under 128 bytes,
    // so each length is one byte.
    const int = [...varint(i)];
    const value = [SCALAR_TAG, 3 + int.length, PRIMITIVE_TAG, 1 + int.length, INTEGER_TAG, ...int];
    const key = Buffer.from(`k${i}`, "latin1");
    scratch.length = 0;
    scratch.push(ENTRY_TAG, 2 + key.length + 2 + value.length, KEY_TAG, key.length, ...key, VALUE_TAG, value.length, ...value);
    if (at + scratch.length > budget) break;
    for (const b of scratch) out[at++] = b;
    entries++;
  }
  const literalMap = out.subarray(0, at);
  const literal = lenField(LiteralSchema.field.map.number, literalMap);
  const named = Buffer.concat([lenField(NamedLiteralSchema.field.name.number, Buffer.from("m")), lenField(NamedLiteralSchema.field.value.number, literal)]);
  const inputs = Buffer.concat([lenField(InputsSchema.field.literals.number, seconds), lenField(InputsSchema.field.literals.number, named)]);
  return { bytes: Buffer.concat([head, lenField(CreateTaskRequestSchema.field.inputs.number, inputs)]), entries };
}
