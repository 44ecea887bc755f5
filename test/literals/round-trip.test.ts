import { fc, test } from "@fast-check/jest";
import { toBinary } from "@bufbuild/protobuf";
import { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { Datetime } from "../../src/literals/datetime.js";
import type { AnyFlyteType } from "../../src/literals/flyte-type.js";
import { literalFromValue } from "../../src/literals/literal-from-value.js";
import { t } from "../../src/literals/t.js";
import { Timedelta } from "../../src/literals/timedelta.js";
import { valueFromLiteral } from "../../src/literals/value-from-literal.js";
import { LiteralError } from "../../src/literals/errors.js";

/**
 * Laws over random types and values: a value written and read back is the same value, and a
 * literal read and written back is the same bytes. Values are generated in their read form (docs/type-engine.md).
 */

interface Typed {
  readonly type: AnyFlyteType;
  readonly value: fc.Arbitrary<unknown>;
}

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const edgeInts = fc.constantFrom(INT64.min, INT64.max, 0n, -1n, 2n ** 53n, -(2n ** 53n) - 1n);
const anyDouble = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, Number.MIN_VALUE, Number.MAX_VALUE));

const int: Typed = { type: t.int(), value: fc.oneof(fc.bigInt(INT64), edgeInts) };
const float: Typed = { type: t.float(), value: anyDouble };
const string: Typed = { type: t.string(), value: fc.string({ unit: "binary" }) };
const bool: Typed = { type: t.bool(), value: fc.boolean() };
const datetime: Typed = {
  type: t.datetime(),
  value: fc
    .tuple(fc.bigInt({ min: -62135596800n, max: 253402300799n }), fc.integer({ min: 0, max: 999_999_999 }))
    .map(([s, n]) => Datetime.fromEpochSeconds(s, n)),
};
const duration: Typed = {
  type: t.duration(),
  value: fc.bigInt({ min: -315_576_000_000_999_999_999n, max: 315_576_000_000_999_999_999n }).map((n) => Timedelta.fromNanoseconds(n)),
};
const none: Typed = { type: t.none(), value: fc.constant(null) };
const file: Typed = {
  type: t.file(),
  value: fc.record(
    { uri: fc.webUrl(), format: fc.constantFrom("", "csv"), dimensionality: fc.constant("SINGLE"), hash: fc.string({ minLength: 1 }) },
    { requiredKeys: ["uri", "format", "dimensionality"] },
  ),
};
const dataframe: Typed = { type: t.dataframe(), value: fc.record({ uri: fc.webUrl(), format: fc.constantFrom("", "parquet"), columns: fc.constant([]) }) };
const enumType: Typed = {
  type: t.enum(["RED", "GREEN", "BLUE"]),
  value: fc.constantFrom("RED", "GREEN", "BLUE"),
};

/** msgpack data as it reads back: ints beyond 2^53 stay bigint, within it are numbers. */
const msgpackData = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) }), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n })),
    anyDouble,
    fc.string(),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 }),
  ),
})).value;
const dict: Typed = { type: t.dict(), value: fc.dictionary(fc.string(), msgpackData, { maxKeys: 5 }) };
const stats: Typed = {
  type: t.dataclass("Stats", { mean: t.float(), count: t.int(), label: t.optional(t.string()), tags: t.list(t.string()) }),
  value: fc.record({
    mean: anyDouble,
    count: fc.maxSafeInteger(),
    label: fc.option(fc.string(), { nil: null }),
    tags: fc.array(fc.string(), { maxLength: 3 }),
  }),
};

const leaves: readonly Typed[] = [int, float, string, bool, datetime, duration, none, file, dataframe, enumType, dict, stats];

const listOf = (e: Typed): Typed => ({ type: t.list(e.type), value: fc.array(e.value, { maxLength: 4 }) });
const mapOf = (e: Typed): Typed => ({ type: t.map(e.type), value: fc.dictionary(fc.string(), e.value, { maxKeys: 4 }) });
// Optional[Optional[T]] collapses to Optional[T] in Python; it is never a type of its own.
const optionalOf = (e: Typed): Typed => (e.type.optional ? e : { type: t.optional(e.type), value: fc.option(e.value, { nil: null }) });

/** Unions of variants whose JS types do not overlap, as a Python union of distinct classes. */
const unionArb: fc.Arbitrary<Typed> = fc
  .subarray([int, float, string, bool, datetime, duration, none, listOf(int)], { minLength: 2 })
  .map((variants) => ({ type: t.union(...variants.map((v) => v.type)), value: fc.oneof(...variants.map((v) => v.value)) }));

const typed: fc.Arbitrary<Typed> = fc.letrec<{ typed: Typed }>((tie) => ({
  typed: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.constantFrom(...leaves),
    unionArb,
    tie("typed").map(listOf),
    tie("typed").map(mapOf),
    tie("typed").map(optionalOf),
  ),
})).typed;

const typedValue = typed.chain((x) => x.value.map((value) => ({ type: x.type, value })));

const bytesOf = (value: unknown, type: AnyFlyteType) => Buffer.from(toBinary(LiteralSchema, literalFromValue(value, type.literalType))).toString("hex");

describe("round trips over random types and values", () => {
  test.prop([typedValue], { numRuns: 400 })("value → literal → value is the same value", ({ type, value }) => {
    expect(valueFromLiteral(literalFromValue(value, type.literalType), type.literalType)).toEqual(value);
  });

  test.prop([typedValue], { numRuns: 400 })("literal → value → literal is the same bytes", ({ type, value }) => {
    const literal = literalFromValue(value, type.literalType);
    const again = literalFromValue(valueFromLiteral(literal, type.literalType), type.literalType);
    expect(Buffer.from(toBinary(LiteralSchema, again)).toString("hex")).toBe(bytesOf(value, type));
  });

  test.prop([fc.oneof(fc.bigInt({ min: 2n ** 63n, max: 2n ** 80n }), fc.bigInt({ min: -(2n ** 80n), max: -(2n ** 63n) - 1n }))])(
    "integers beyond int64 are refused",
    (n) => {
      expect(() => literalFromValue(n, t.int().literalType)).toThrow(LiteralError);
    },
  );

  test.prop([fc.double().filter((d) => !Number.isSafeInteger(d))])("non-integral or unsafe numbers are refused for an int", (d) => {
    expect(() => literalFromValue(d, t.int().literalType)).toThrow(LiteralError);
  });

  test.prop([fc.maxSafeInteger()])("safe-integer numbers are accepted for an int and read back as bigint", (n) => {
    expect(valueFromLiteral(literalFromValue(n, t.int().literalType), t.int().literalType)).toBe(BigInt(n));
  });
});
