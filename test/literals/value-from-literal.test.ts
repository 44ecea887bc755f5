import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { LiteralTypeSchema, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { LiteralError } from "../../src/literals/errors.js";
import { t } from "../../src/literals/t.js";
import { valueFromLiteral } from "../../src/literals/value-from-literal.js";
import { STATS_LT } from "./fixtures/spec-vectors.js";

const read = (lit: JsonValue, type: LiteralType) => valueFromLiteral(fromJson(LiteralSchema, lit), type);
const P = (primitive: JsonValue) => ({ scalar: { primitive } });
const msgpack = (hex: string, tag = "msgpack") => ({ scalar: { binary: { value: Buffer.from(hex, "hex").toString("base64"), tag } } });
const unionOf = (value: JsonValue, type: JsonValue) => ({ scalar: { union: { value, type } } });
const STATS = fromJson(LiteralTypeSchema, STATS_LT);

describe("valueFromLiteral: unions dispatch on the tag as flyte-sdk does", () => {
  const lists = t.union(t.list(t.int()), t.list(t.string())).literalType;

  test("variants sharing a tag are tried; the one that fits wins", () => {
    expect(
      read(unionOf({ collection: { literals: [P({ stringValue: "a" })] } }, { collectionType: { simple: "STRING" }, structure: { tag: "Typed List" } }), lists),
    ).toEqual(["a"]);
  });

  test("…and when several fit, it is ambiguous", () => {
    expect(() => read(unionOf({ collection: {} }, { collectionType: { simple: "STRING" }, structure: { tag: "Typed List" } }), lists)).toThrow(/ambiguous/);
  });

  test("an unknown tag is an error naming it and the known tags", () => {
    expect(() => read(unionOf(P({ integer: "1" }), { simple: "INTEGER", structure: { tag: "integer" } }), t.optional(t.int()).literalType)).toThrow(
      'unknown union tag "integer" (the variants are tagged int, none)',
    );
  });

  test("an untagged union literal (Python fails) is matched by its type", () => {
    expect(read(unionOf(P({ integer: "1" }), { simple: "INTEGER" }), t.optional(t.int()).literalType)).toBe(1n);
    expect(() => read(unionOf(P({ integer: "1" }), { simple: "FLOAT" }), t.optional(t.int()).literalType)).toThrow(/without a tag matches no variant/);
  });

  test("a raw literal must fit exactly one variant (Union[int,float] + integer is ambiguous, as in Python)", () => {
    expect(read({ scalar: { noneType: {} } }, t.optional(t.int()).literalType)).toBeNull();
    expect(() => read(P({ integer: "3" }), t.union(t.int(), t.float()).literalType)).toThrow(/ambiguous choice of variant: an integer literal fits several/);
    expect(() => read(P({ boolean: true }), t.optional(t.int()).literalType)).toThrow(/a boolean literal fits no variant of union<int \| none>/);
  });

  test("a union-wrapped literal for a plain type reads as its value", () => {
    expect(read(unionOf(P({ integer: "3" }), { simple: "INTEGER", structure: { tag: "int" } }), t.int().literalType)).toBe(3n);
  });
});

describe("valueFromLiteral: primitives", () => {
  test("an integral float reads as an int; an int reads as a float (flyte-sdk's lenient reads)", () => {
    expect(read(P({ floatValue: 3 }), t.int().literalType)).toBe(3n);
    expect(read(P({ integer: "-7" }), t.float().literalType)).toBe(-7);
  });

  test("a msgpack binary holding the value is read, as flyte-sdk's simple transformers do", () => {
    expect(read(msgpack("2a"), t.int().literalType)).toBe(42n);
    expect(read(msgpack("cfffffffffffffffff".replace(/^cf/, "d3")), t.int().literalType)).toBe(-1n);
    expect(read(msgpack("cb3ff8000000000000"), t.float().literalType)).toBe(1.5);
    expect(read(msgpack("a178"), t.string().literalType)).toBe("x");
    expect(read(msgpack("c3"), t.bool().literalType)).toBe(true);
    expect(() => read(msgpack("cf8000000000000000"), t.int().literalType)).toThrow("integer 9223372036854775808 is out of the int64 range");
    expect(() => read(msgpack("a178"), t.int().literalType)).toThrow(/msgpack binary holding the string "x"/);
  });

  test.each<[string, JsonValue, LiteralType, RegExp]>([
    ["a string for an int", P({ stringValue: "1" }), t.int().literalType, /expected INTEGER, got a string literal/],
    ["an integer for a bool (Python reads it as False)", P({ integer: "1" }), t.bool().literalType, /expected BOOLEAN, got an integer literal/],
    ["a none for a string", { scalar: { noneType: {} } }, t.string().literalType, /expected STRING, got a none literal/],
    ["an empty literal", {}, t.int().literalType, /expected INTEGER, got an empty literal/],
    ["a collection for a map", { collection: {} }, t.map(t.int()).literalType, /expected map<INTEGER>, got a collection literal/],
    ["an unknown enum value", P({ stringValue: "PURPLE" }), t.enum(["RED"]).literalType, /"PURPLE" is not one of the enum values RED/],
    [
      "a dir for a file",
      { scalar: { blob: { metadata: { type: { dimensionality: "MULTIPART" } }, uri: "s3://b/" } } },
      t.file().literalType,
      /expected file, got a MULTIPART blob/,
    ],
    ["a file for a dataset", { scalar: { blob: { uri: "s3://b/" } } }, t.dataframe().literalType, /expected dataframe, got a blob literal/],
    ["corrupt msgpack", msgpack("83a46d65616e"), STATS, /corrupt msgpack for STRUCT Stats: msgpack map of 3 entries is truncated/],
    ["a binary tagged otherwise", msgpack("80", "json"), STATS, /expected a msgpack binary, got binary tag "json"/],
    ["an untagged binary for a struct", msgpack("80", ""), STATS, /untagged binary \(a Python pickle\?\)/],
    ["an integer for a struct", P({ integer: "1" }), STATS, /expected STRUCT Stats as msgpack or Struct, got an integer literal/],
    ["a schema type", P({ integer: "1" }), fromJson(LiteralTypeSchema, { schema: {} }), /schema inputs are not supported/],
    ["an ERROR type", P({ integer: "1" }), fromJson(LiteralTypeSchema, { simple: "ERROR" }), /ERROR inputs are not supported/],
  ])("rejects %s", (_name, lit, type, message) => {
    expect(() => read(lit, type)).toThrow(LiteralError);
    expect(() => read(lit, type)).toThrow(message);
  });

  test("an out-of-range Timestamp is an error, not a bad Datetime", () => {
    const bad = fromJson(LiteralSchema, P({ datetime: "2024-01-02T00:00:00Z" }));
    const p = bad.value.case === "scalar" && bad.value.value.value.case === "primitive" ? bad.value.value.value.value.value : undefined;
    if (p?.case === "datetime") p.value.nanos = -5;
    expect(() => valueFromLiteral(bad, t.datetime().literalType)).toThrow(/invalid datetime/);
  });
});

describe("valueFromLiteral: structs, files and datasets", () => {
  test("a dataclass from the UI's Struct form (numbers are doubles)", () => {
    expect(read({ scalar: { generic: { mean: 1.5, count: 3, label: "demo" } } }, STATS)).toEqual({ mean: 1.5, count: 3, label: "demo" });
  });

  test("a dataset's columns come from the literal when the type declares none", () => {
    const literal = {
      scalar: { structuredDataset: { uri: "s3://b/t", metadata: { structuredDatasetType: { columns: [{ name: "a", literalType: { simple: "FLOAT" } }] } } } },
      hash: "h1",
    };
    const value = read(literal, t.dataframe({ format: "csv" }).literalType) as { format: string; hash: string; columns: { name: string; type: LiteralType }[] };
    expect(value.format).toBe("csv");
    expect(value.hash).toBe("h1");
    expect(value.columns.map((c) => [c.name, toJson(LiteralTypeSchema, c.type)])).toEqual([["a", { simple: "FLOAT" }]]);
  });
});
