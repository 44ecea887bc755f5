import { create, fromJson, toBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { TypedInterfaceSchema, type TypedInterface } from "#idl/flyteidl2/core/interface_pb.js";
import { LiteralTypeSchema } from "#idl/flyteidl2/core/types_pb.js";
import { InputsSchema, OutputsSchema } from "#idl/flyteidl2/task/common_pb.js";
import { outputTypesFromJson, outputTypesOf, outputTypesToJson, outputsFromValues, valuesFromInputs } from "../../src/literals/convert.js";
import { Datetime } from "../../src/literals/datetime.js";
import { LiteralError } from "../../src/literals/errors.js";
import { Timedelta } from "../../src/literals/timedelta.js";

const INT = { simple: "INTEGER" };
const OPT_INT = {
  unionType: {
    variants: [
      { simple: "INTEGER", structure: { tag: "int" } },
      { simple: "NONE", structure: { tag: "none" } },
    ],
  },
};

function iface(inputs: Record<string, JsonValue>, outputs: Record<string, JsonValue> = {}): TypedInterface {
  const vars = (m: Record<string, JsonValue>) => ({ variables: Object.entries(m).map(([key, type]) => ({ key, value: { type } })) });
  return fromJson(TypedInterfaceSchema, { inputs: vars(inputs), outputs: vars(outputs) });
}

function inputs(literals: Record<string, JsonValue>) {
  return fromJson(InputsSchema, { literals: Object.entries(literals).map(([name, value]) => ({ name, value })) });
}

const P = (p: JsonValue) => ({ scalar: { primitive: p } });

describe("valuesFromInputs", () => {
  const types = {
    n: INT,
    f: { simple: "FLOAT" },
    s: { simple: "STRING" },
    b: { simple: "BOOLEAN" },
    t: { simple: "DATETIME" },
    d: { simple: "DURATION" },
    z: { simple: "NONE" },
    xs: { collectionType: { simple: "FLOAT" } },
    m: { mapValueType: { collectionType: INT } },
  };

  test("converts every primitive and nested lists/maps by name, in any order", () => {
    const values = valuesFromInputs(
      inputs({
        m: { map: { literals: { a: { collection: { literals: [P({ integer: "-9223372036854775808" })] } }, e: { collection: {} } } } },
        z: { scalar: { noneType: {} } },
        xs: { collection: { literals: [P({ floatValue: "NaN" }), P({ floatValue: "-Infinity" }), P({ integer: "3" })] } },
        d: P({ duration: "-1.500s" }),
        t: P({ datetime: "2024-01-02T03:04:05.123456Z" }),
        b: P({ boolean: false }),
        s: P({ stringValue: "" }),
        f: P({ floatValue: 3.14 }),
        n: P({ integer: "9223372036854775807" }),
      }),
      iface(types),
    );
    expect(values).toEqual({
      n: 9223372036854775807n,
      f: 3.14,
      s: "",
      b: false,
      t: Datetime.fromISOString("2024-01-02T03:04:05.123456Z"),
      d: Timedelta.fromMilliseconds(-1500),
      z: null,
      xs: [NaN, -Infinity, 3],
      m: { a: [-9223372036854775808n], e: [] },
    });
    expect((values["t"] as Datetime).nanos).toBe(123_456_000);
  });

  test.each([
    ["a type mismatch", { n: P({ stringValue: "x" }) }, /input 'n': expected INTEGER, got a string literal/],
    ["a nested mismatch", { m: { map: { literals: { k: { collection: { literals: [P({ boolean: true })] } } } } } }, /input 'm'\["k"\]\[0\]: expected INTEGER/],
    ["an undeclared input", { nope: P({ integer: "1" }) }, /input 'nope': not declared by the task interface/],
    ["a fractional float for an int", { n: P({ floatValue: 1.5 }) }, /input 'n': .*not a whole number/],
    ["an int64 out of range", { n: P({ floatValue: 1e19 }) }, /input 'n': integer 10000000000000000000 is out of the int64 range/],
    ["a non-boolean for a bool (strict, unlike Python)", { b: P({ integer: "0" }) }, /input 'b': expected BOOLEAN/],
    [
      "an int64 out of range in msgpack",
      { n: { scalar: { binary: { value: "z4AAAAAAAAAA", tag: "msgpack" } } } },
      /input 'n': integer 9223372036854775808 is out of the int64 range/,
    ],
    ["corrupt msgpack", { d: { scalar: { binary: { value: "g6Rt", tag: "msgpack" } } } }, /input 'd': corrupt msgpack for STRUCT/],
    [
      "an unknown union tag",
      { o: { scalar: { union: { value: P({ integer: "1" }), type: { simple: "INTEGER", structure: { tag: "Int" } } } } } },
      /input 'o': unknown union tag "Int"/,
    ],
  ])("rejects %s, naming the input", (_name, literals, message) => {
    const all = { n: INT, m: types.m, b: types.b, d: { simple: "STRUCT" }, o: OPT_INT };
    const given = { n: P({ integer: "1" }), m: { map: {} }, b: P({ boolean: true }), d: { scalar: { generic: {} } }, ...literals };
    expect(() => valuesFromInputs(inputs(given), iface(all))).toThrow(message);
    expect(() => valuesFromInputs(inputs(given), iface(all))).toThrow(LiteralError);
  });

  test("a missing required input is an error; a missing Optional input reads as null", () => {
    expect(() => valuesFromInputs(inputs({}), iface({ n: INT }))).toThrow(/input 'n': is missing/);
    expect(valuesFromInputs(undefined, iface({ o: OPT_INT }))).toEqual({ o: null });
    expect(valuesFromInputs(undefined, undefined)).toEqual({});
  });

  test("a duplicated input is an error", () => {
    const dup = create(InputsSchema, { literals: [...inputs({ n: P({ integer: "1" }) }).literals, ...inputs({ n: P({ integer: "2" }) }).literals] });
    expect(() => valuesFromInputs(dup, iface({ n: INT }))).toThrow(/input 'n': given more than once/);
  });
});

describe("outputsFromValues", () => {
  test("writes outputs in the declared order with the declared types", () => {
    const types = outputTypesOf(iface({}, { o0: INT, o1: { collectionType: { simple: "FLOAT" } }, o2: OPT_INT }));
    const outputs = outputsFromValues({ o1: [1, 2.5], o0: 7n }, types);
    expect(toJson(OutputsSchema, outputs)).toEqual({
      literals: [
        { name: "o0", value: P({ integer: "7" }) },
        { name: "o1", value: { collection: { literals: [P({ floatValue: 1 }), P({ floatValue: 2.5 })] } } },
        { name: "o2", value: { scalar: { union: { value: { scalar: { noneType: {} } }, type: { simple: "NONE", structure: { tag: "none" } } } } } },
      ],
    });
  });

  test('the docs/flyte-literals.md §1.1 wire example: Outputs{o0:7,o1:"x"}', () => {
    const types = outputTypesOf(iface({}, { o0: INT, o1: { simple: "STRING" } }));
    const bytes = toBinary(OutputsSchema, outputsFromValues({ o0: 7, o1: "x" }, types));
    expect(Buffer.from(bytes).toString("hex")).toBe("0a0c0a026f3012060a040a0208070a0d0a026f3112070a050a031a0178");
  });

  test.each([
    ["a value of the wrong type", { o0: "7" }, /output 'o0': expected an integer .*got the string "7"/],
    ["an unsafe number for an int", { o0: 2 ** 60 }, /output 'o0': .*pass a bigint/],
    ["a bigint beyond int64", { o0: 2n ** 63n }, /output 'o0': 9223372036854775808 is out of the int64 range/],
    ["a missing output", {}, /output 'o0': is missing/],
    ["an undeclared output", { o0: 1, extra: 1 }, /output 'extra': not declared/],
  ])("rejects %s, naming the output", (_name, values, message) => {
    const types = outputTypesOf(iface({}, { o0: INT }));
    expect(() => outputsFromValues(values, types)).toThrow(message);
  });
});

describe("outputTypesToJson / outputTypesFromJson", () => {
  test("round-trips and stays compact", () => {
    const types = outputTypesOf(iface({}, { o0: INT, o1: OPT_INT }));
    const json = outputTypesToJson(types);
    expect(json["o0"]).toBe("CAE=");
    const back = outputTypesFromJson(JSON.parse(JSON.stringify(json)));
    expect(Object.keys(back)).toEqual(["o0", "o1"]);
    expect(toJson(LiteralTypeSchema, back["o1"]!)).toEqual(OPT_INT);
  });

  test("rejects what it did not write", () => {
    expect(() => outputTypesFromJson([1])).toThrow(LiteralError);
    expect(() => outputTypesFromJson({ o0: 1 })).toThrow(/output type 'o0'/);
  });
});
