import { fromBinary, fromJson, toBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { LiteralSchema, type Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { LiteralTypeSchema, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { LiteralError } from "../../src/literals/errors.js";
import { literalFromValue } from "../../src/literals/literal-from-value.js";
import { t } from "../../src/literals/t.js";
import { unionVariant } from "../../src/literals/union-variant.js";
import { Datetime } from "../../src/literals/datetime.js";
import { Timedelta } from "../../src/literals/timedelta.js";
import { valueFromLiteral } from "../../src/literals/value-from-literal.js";
import { STATS_LT } from "./fixtures/spec-vectors.js";

const json = (literal: Literal): JsonValue => toJson(LiteralSchema, literal);
const P = (primitive: JsonValue) => ({ scalar: { primitive } });
const unionOf = (value: JsonValue, type: JsonValue) => ({ scalar: { union: { value, type } } });

describe("literalFromValue: unions choose the variant as flyte-sdk does", () => {
  const intOrFloat = t.union(t.int(), t.float()).literalType;

  test("bigint is INTEGER and number is FLOAT, so a value goes back to the variant it came from", () => {
    expect(json(literalFromValue(3n, intOrFloat))).toEqual(unionOf(P({ integer: "3" }), { simple: "INTEGER", structure: { tag: "int" } }));
    expect(json(literalFromValue(3, intOrFloat))).toEqual(unionOf(P({ floatValue: 3 }), { simple: "FLOAT", structure: { tag: "float" } }));
  });

  test("without a variant of the value's own JS type, the one variant that accepts it is used", () => {
    const intOrStr = t.union(t.int(), t.string()).literalType;
    expect(json(literalFromValue(3, intOrStr))).toEqual(unionOf(P({ integer: "3" }), { simple: "INTEGER", structure: { tag: "int" } }));
  });

  test("a value that fits several variants is ambiguous, as in Python, and unionVariant picks one", () => {
    const strOrEnum = t.union(t.string(), t.enum(["RED", "GREEN"])).literalType;
    expect(() => literalFromValue("RED", strOrEnum)).toThrow(
      /ambiguous choice of variant .* fits "str", "DefaultEnumTransformer"; choose one with unionVariant/,
    );
    expect(json(literalFromValue(unionVariant("DefaultEnumTransformer", "RED"), strOrEnum))).toEqual(
      unionOf(P({ stringValue: "RED" }), { enumType: { values: ["RED", "GREEN"] }, structure: { tag: "DefaultEnumTransformer" } }),
    );
    expect(json(literalFromValue("BLUE", strOrEnum))).toEqual(unionOf(P({ stringValue: "BLUE" }), { simple: "STRING", structure: { tag: "str" } }));
    const lists = t.union(t.list(t.int()), t.list(t.string())).literalType;
    expect(() => literalFromValue([], lists)).toThrow(/ambiguous/);
    expect(json(literalFromValue(["a"], lists))).toEqual(
      unionOf({ collection: { literals: [P({ stringValue: "a" })] } }, { collectionType: { simple: "STRING" }, structure: { tag: "Typed List" } }),
    );
  });

  test("unionVariant errors are clear", () => {
    const opt = t.optional(t.int()).literalType;
    expect(() => literalFromValue(unionVariant("str", "x"), opt)).toThrow(/no variant of union<int \| none> is tagged "str"/);
    expect(() => literalFromValue(unionVariant("int", "x"), opt)).toThrow(/does not fit the "int" variant/);
    expect(() => literalFromValue(unionVariant("int", 1), t.int().literalType)).toThrow(/expected an integer .*got a UnionVariant/);
  });

  test("a value that fits no variant lists why for each", () => {
    expect(() => literalFromValue(true, t.optional(t.int()).literalType)).toThrow(
      /the boolean true fits no variant of union<int \| none> \(int: expected an integer .*; none: expected null/,
    );
  });

  test("nested Optionals nest unions (list[list[dict[str,str]]|None]|None)", () => {
    const type = t.optional(t.list(t.optional(t.list(t.map(t.string()))))).literalType;
    const literal = literalFromValue([null, [{ k: "v" }]], type);
    expect(valueFromLiteral(literal, type)).toEqual([null, [{ k: "v" }]]);
    const outer = json(literal) as { scalar: { union: { value: { collection: { literals: JsonValue[] } } } } };
    expect(outer.scalar.union.value.collection.literals[0]).toEqual(unionOf({ scalar: { noneType: {} } }, { simple: "NONE", structure: { tag: "none" } }));
  });
});

describe("literalFromValue: values that do not fit", () => {
  test.each<[string, unknown, LiteralType, RegExp]>([
    ["a string for an int", "1", t.int().literalType, /expected an integer/],
    ["a fraction for an int", 1.5, t.int().literalType, /expected an integer .*1\.5/],
    ["a bigint a float cannot hold", 2n ** 60n + 1n, t.float().literalType, /no exact float representation/],
    ["a number for a bool", 0, t.bool().literalType, /expected a boolean/],
    ["a string for a datetime", "2024-01-01", t.datetime().literalType, /expected a Datetime or Date/],
    ["an invalid Date", new Date(NaN), t.datetime().literalType, /invalid datetime/],
    ["a number for a duration", 1000, t.duration().literalType, /expected a Timedelta/],
    ["0 for None", 0, t.none().literalType, /expected null/],
    ["an object for a list", {}, t.list(t.int()).literalType, /expected an array/],
    ["a wrong element", [1, "x"], t.list(t.int()).literalType, /^\[1\]: expected an integer/],
    ["an array for a map", [], t.map(t.int()).literalType, /expected an object or a Map/],
    ["a non-string Map key", new Map([[1, 1]]), t.map(t.int()).literalType, /map keys must be strings/],
    ["a wrong map value", { a: 1, "b c": "x" }, t.map(t.int()).literalType, /^\["b c"\]: expected an integer/],
    ["an unknown enum value", "PURPLE", t.enum(["RED"]).literalType, /"PURPLE" is not one of the enum values RED/],
    ["a file without uri", { path: "x" }, t.file().literalType, /expected file as \{uri, format\?, hash\?\}/],
    ["a dir for a file", { uri: "s3://b/d/", dimensionality: "MULTIPART" }, t.file().literalType, /expected a SINGLE blob/],
    ["a dataset without uri", {}, t.dataframe().literalType, /expected dataframe as \{uri/],
    ["an array for a struct", [1], fromJson(LiteralTypeSchema, STATS_LT), /expected an object or a Map for STRUCT Stats/],
    ["a struct missing a field", { mean: 1.5, count: 3 }, fromJson(LiteralTypeSchema, STATS_LT), /the required field "label" is missing/],
    [
      "a struct field of the wrong type",
      { mean: 1.5, count: "3", label: "x" },
      fromJson(LiteralTypeSchema, STATS_LT),
      /^\.count: expected integer, got the string "3"/,
    ],
    ["an empty type", 1, fromJson(LiteralTypeSchema, {}), /an empty type outputs are not supported/],
  ])("%s", (_name, value, type, message) => {
    expect(() => literalFromValue(value, type)).toThrow(LiteralError);
    expect(() => literalFromValue(value, type)).toThrow(message);
  });
});

describe("literalFromValue: structs", () => {
  test("a pydantic enum field is checked against its $defs names (V29's schema)", () => {
    const job = t.pydantic("Job", { name: t.string(), status: t.enum(["RED", "GREEN"]) }).literalType;
    expect(() => literalFromValue({ name: "j", status: "red" }, job)).toThrow(/\.status: "red" is not one of RED, GREEN/);
  });

  test("an untyped dict keeps non-string Map keys, bigints and bytes", () => {
    const value = new Map<unknown, unknown>([[1, { big: 2n ** 62n, bytes: new Uint8Array([1, 2]) }]]);
    const type = t.dict().literalType;
    expect(valueFromLiteral(literalFromValue(value, type), type)).toEqual(value);
  });

  test("a protobuf STRUCT is written as a generic Struct, holding JSON only", () => {
    const type = t.protobuf("google.protobuf.struct_pb2.Struct").literalType;
    expect(json(literalFromValue({ a: [1, "x", null], b: { c: true } }, type))).toEqual({ scalar: { generic: { a: [1, "x", null], b: { c: true } } } });
    expect(() => literalFromValue({ a: 2n ** 60n + 1n }, type)).toThrow(/would lose digits/);
    expect(() => literalFromValue({ a: new Date() }, type)).toThrow(/\["a"\]: a Struct cannot hold a Date/);
  });

  test("Datetime and Timedelta inside a dataclass take mashumaro's forms", () => {
    const type = t.dataclass("T", { when: t.datetime(), took: t.duration() }).literalType;
    const value = { when: Datetime.fromISOString("2024-01-02T03:04:05Z"), took: Timedelta.of({ seconds: 90, microseconds: 5 }) };
    expect(valueFromLiteral(literalFromValue(value, type), type)).toEqual({ when: "2024-01-02T03:04:05+00:00", took: 90.000005 });
  });
});

describe("literalFromValue: files and datasets", () => {
  test("format defaults from the declared type, hash is set on the literal", () => {
    expect(json(literalFromValue({ uri: "/tmp/a.csv", hash: "h" }, t.file({ format: "csv" }).literalType))).toEqual({
      scalar: { blob: { metadata: { type: { format: "csv" } }, uri: "/tmp/a.csv" } },
      hash: "h",
    });
  });
});

describe('a "__proto__" key is data, never a prototype', () => {
  test.each([
    ["dict[str,int]", t.map(t.int()).literalType],
    ["untyped dict", t.dict().literalType],
  ])("%s keeps it as an own key, through protobuf binary too", (_name, type) => {
    const value = JSON.parse('{"__proto__": 1, "a": 2}') as Record<string, unknown>;
    const literal = fromBinary(LiteralSchema, toBinary(LiteralSchema, literalFromValue(value, type)));
    const back = valueFromLiteral(literal, type) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__", "a"]);
    expect(Object.keys(back).map((k) => back[k])).toEqual(type.type.case === "mapValueType" ? [1n, 2n] : [1, 2]);
  });
});
