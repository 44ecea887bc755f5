import { fc, test } from "@fast-check/jest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { valuesFromInputs } from "../../src/literals/convert.js";
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

// Every shape of literal tree, at sizes where each part is "large" (smallBytes: 1), so that every path of the
// sliced decoder runs: map entries read by hand and through the reader, values decoded when read, primitive
// literals decoded by hand and by fromBinary. The result must be fromBinary's, field for field and byte for byte.
const literalSchema = CreateTaskRequestSchema.field.inputs.message!.field.literals.message!.field.value.message!;
type LiteralInit = Parameters<typeof create<typeof literalSchema>>[1];
const primitive = fc.oneof(
  fc.record({
    case: fc.constant("integer" as const),
    value: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 300n })),
  }),
  fc.record({ case: fc.constant("floatValue" as const), value: fc.double() }),
  fc.record({
    case: fc.constant("stringValue" as const),
    value: fc.oneof(fc.string(), fc.string({ unit: "grapheme", maxLength: 40 }), fc.string({ minLength: 100, maxLength: 200 })),
  }),
  fc.record({ case: fc.constant("boolean" as const), value: fc.boolean() }),
);
const mapKey = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("__proto__", "constructor", "", "ключ", "k".repeat(200)));
const { literal } = fc.letrec<{ literal: LiteralInit }>((tie) => ({
  literal: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record(
      {
        value: fc.oneof(
          fc.record({
            case: fc.constant("scalar" as const),
            value: fc.record({ value: fc.record({ case: fc.constant("primitive" as const), value: fc.record({ value: primitive }) }) }),
          }),
          fc.record({ case: fc.constant("scalar" as const), value: fc.constant({ value: { case: "noneType" as const, value: {} } }) }),
        ),
        hash: fc.string({ maxLength: 8 }),
        metadata: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
      },
      { requiredKeys: ["value"] },
    ),
    fc.record({ value: fc.record({ case: fc.constant("collection" as const), value: fc.record({ literals: fc.array(tie("literal"), { maxLength: 5 }) }) }) }),
    fc.record({
      value: fc.record({ case: fc.constant("map" as const), value: fc.record({ literals: fc.dictionary(mapKey, tie("literal"), { maxKeys: 6 }) }) }),
    }),
  ) as fc.Arbitrary<LiteralInit>,
}));

function requestWith(value: LiteralInit): Uint8Array {
  const request = createTaskRequest({ type: "echo" });
  request.inputs!.literals.push({ $typeName: "flyteidl2.task.NamedLiteral", name: "m", value: create(literalSchema, value) } as never);
  return toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, request));
}

test.prop([literal], { numRuns: 300 })("any literal tree decodes as fromBinary decodes it", async (value) => {
  const bytes = requestWith(value);
  const sliced = await decodeInSlices(CreateTaskRequestSchema, bytes, { smallBytes: 1, sliceMs: 0 });
  const whole = fromBinary(CreateTaskRequestSchema, bytes);
  expect(toBinary(CreateTaskRequestSchema, sliced)).toEqual(toBinary(CreateTaskRequestSchema, whole));
  expect(sliced).toEqual(whole);
});

test("a map key sent twice keeps its first place and its last value, as protobuf's decoding does", async () => {
  const map = (entries: Record<string, bigint>) =>
    toBinary(
      LiteralMapSchema,
      create(LiteralMapSchema, { literals: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, intLiteral(v)])) as never }),
    );
  // Two encodings of one map field, one after the other, are one map on the wire with "b" twice.
  const bytes = new Uint8Array([...map({ a: 1n, b: 2n }), ...map({ b: 3n, c: 4n })]);
  const sliced = await decodeInSlices(LiteralMapSchema, bytes, { smallBytes: 1 });
  expect(Object.entries(sliced.literals).map(([k, l]) => [k, l.value.case === "scalar" && l.value.value.value.value])).toEqual(
    Object.entries(fromBinary(LiteralMapSchema, bytes).literals).map(([k, l]) => [k, l.value.case === "scalar" && l.value.value.value.value]),
  );
  expect(Object.keys(sliced.literals)).toEqual(["a", "b", "c"]);
});

describe("a large map's object is built only when something reads it", () => {
  const bytes = requestWith({
    value: { case: "map", value: { literals: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, intLiteral(BigInt(i))])) } },
  });
  const iface = {
    inputs: { variables: [{ key: "m", value: { type: { type: { case: "mapValueType", value: INTEGER } } } }] },
  } as unknown as Parameters<typeof valuesFromInputs>[1];

  test("conversion reads the entries without building it, and converts them as from fromBinary's object", async () => {
    const sliced = await decodeInSlices(CreateTaskRequestSchema, bytes, { smallBytes: 1 });
    const map = sliced.inputs!.literals[0]!.value!.value.value as { literals: unknown };
    const values = valuesFromInputs(sliced.inputs, iface);
    expect(Object.getOwnPropertyDescriptor(map, "literals")?.get).toBeDefined();
    expect(values).toEqual(valuesFromInputs(fromBinary(CreateTaskRequestSchema, bytes).inputs, iface));
    expect(Object.keys(values["m"] as object)).toHaveLength(3000);
    // Read once, it is a plain data property from then on, and writable like any field.
    expect(Object.keys(map.literals as object)).toHaveLength(3000);
    expect(Object.getOwnPropertyDescriptor(map, "literals")?.get).toBeUndefined();
    map.literals = {};
    expect(valuesFromInputs(sliced.inputs, iface)).toEqual({ m: {} });
  });

  test("a value that does not decode is an error naming its key when conversion reads it", async () => {
    const broken = Buffer.from(bytes);
    // The last entry's integer: a varint whose continuation bit runs off the end of the entry.
    const at = broken.lastIndexOf(Buffer.from("k2999"));
    const literalStart = at + "k2999".length + 2;
    broken[literalStart + 5] = 0xff;
    broken[literalStart + 6] = 0xff;
    const sliced = await decodeInSlices(CreateTaskRequestSchema, broken, { smallBytes: 1024 });
    expect(() => valuesFromInputs(sliced.inputs, iface)).toThrow(/input 'm'\["k2999"\]/);
    expect(() => fromBinary(CreateTaskRequestSchema, broken)).toThrow();
  });
});

// Maps of primitives are converted from the request's bytes without building their literals
// (MapEntries.readPrimitive): every simple type and every primitive against it, values and errors alike.
describe("a large map of primitives converts as fromBinary's map does", () => {
  const prims = {
    int: { value: { case: "integer", value: 12n } },
    negative: { value: { case: "integer", value: -3n } },
    huge: { value: { case: "integer", value: 2n ** 62n } },
    whole: { value: { case: "floatValue", value: 4 } },
    half: { value: { case: "floatValue", value: 0.5 } },
    text: { value: { case: "stringValue", value: 'x"y' } },
    unicode: { value: { case: "stringValue", value: "ключ" } },
    yes: { value: { case: "boolean", value: true } },
  } as const;
  const simpleTypes = { INTEGER: 1, FLOAT: 2, STRING: 3, BOOLEAN: 4 } as const;
  const outcome = (f: () => unknown) => {
    try {
      return { value: f() };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  test.each(Object.entries(simpleTypes))("declared %s", async (_name, simple) => {
    const iface = {
      inputs: { variables: [{ key: "m", value: { type: { type: { case: "mapValueType", value: { type: { case: "simple", value: simple } } } } } }] },
    } as unknown as Parameters<typeof valuesFromInputs>[1];
    for (const [kind, primitive] of Object.entries(prims)) {
      const literals = Object.fromEntries(
        Array.from({ length: 600 }, (_, i) => [
          `k${i}`,
          i === 599 ? { value: { case: "scalar", value: { value: { case: "primitive", value: primitive } } } } : intLiteral(BigInt(i)),
        ]),
      );
      if (simple !== 1) for (let i = 0; i < 599; i++) literals[`k${i}`] = literals["k599"];
      const bytes = requestWith({ value: { case: "map", value: { literals } } } as LiteralInit);
      const sliced = await decodeInSlices(CreateTaskRequestSchema, bytes, { smallBytes: 1024 });
      const expected = outcome(() => valuesFromInputs(fromBinary(CreateTaskRequestSchema, bytes).inputs, iface));
      expect([kind, outcome(() => valuesFromInputs(sliced.inputs, iface))]).toEqual([kind, expected]);
    }
  });
});
