import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { TypedInterfaceSchema } from "#idl/flyteidl2/core/interface_pb.js";
import { LiteralTypeSchema } from "#idl/flyteidl2/core/types_pb.js";
import { AsyncConnector, type CreateRequest, type Resource } from "../../src/connectors/connector.js";
import { outputsFromValues, valuesFromInputs, inputsFromValues } from "../../src/literals/convert.js";
import { Datetime } from "../../src/literals/datetime.js";
import { defineInterface, type InputsOf, type OutputsOf } from "../../src/literals/define-interface.js";
import type { AnyFlyteType, ValueOf, WritableValueOf } from "../../src/literals/flyte-type.js";
import { t } from "../../src/literals/t.js";
import { ANNOTATED_DATAFRAME_LT, CONTAINER_ERROR_LT, SET_PICKLE_LT, SPEC_VECTORS, STATS_LT } from "./fixtures/spec-vectors.js";

const specType = (id: string): JsonValue => SPEC_VECTORS.find((v) => v.id === id)!.lt;
const json = (type: AnyFlyteType): JsonValue => toJson(LiteralTypeSchema, type.literalType);

describe("t builds the LiteralTypes flyte-sdk builds", () => {
  test.each<[string, AnyFlyteType, JsonValue]>([
    ["int", t.int(), specType("V01")],
    ["float", t.float(), specType("V03")],
    ["str", t.string(), specType("V07")],
    ["bool", t.bool(), specType("V08")],
    ["datetime", t.datetime(), specType("V09")],
    ["timedelta", t.duration(), specType("V11")],
    ["None", t.none(), specType("V12")],
    ["list[int]", t.list(t.int()), specType("V13")],
    ["dict[str,int]", t.map(t.int()), specType("V15")],
    ["Optional[int]", t.optional(t.int()), specType("V16")],
    ["Union[str,int]", t.union(t.string(), t.int()), specType("V18")],
    ["Union[List[Dict[str,List[int]]], Dict[str,List[int]], int]", t.union(t.list(t.map(t.list(t.int()))), t.map(t.list(t.int())), t.int()), specType("V19")],
    ["Enum Color", t.enum(["RED", "GREEN", "BLUE"]), specType("V21")],
    ["untyped dict", t.dict(), specType("V23")],
    ["dataclass Stats", t.dataclass("Stats", { mean: t.float(), count: t.int(), label: t.string() }), STATS_LT],
    ["tuple[int,str]", t.pydantic("TupleWrapper_tuple", { item_0: t.int(), item_1: t.string() }), specType("V31")],
    ["NamedTuple Point", t.pydantic("NamedTupleWrapper_Point", { x: t.int(), y: t.float() }), specType("V32")],
    ["File", t.file(), specType("V33")],
    ["Dir", t.dir(), specType("V34")],
    ["DataFrame", t.dataframe(), specType("V35")],
    ["protobuf", t.protobuf("flyteidl2.core.execution_pb2.ContainerError"), CONTAINER_ERROR_LT],
    ["pickle of set", t.pickle("<class 'set'>"), SET_PICKLE_LT],
  ])("%s", (_name, type, expected) => {
    expect(json(type)).toEqual(expected);
  });

  test("annotated DataFrame columns and format (V36, without the pandas tag)", () => {
    const { structure: _tag, ...expected } = ANNOTATED_DATAFRAME_LT as { structure: unknown };
    expect(json(t.dataframe({ format: "parquet", columns: { a: t.int(), b: t.string() } }))).toEqual(expected);
  });

  test("an Optional dataclass field is anyOf with a null default and not required, as mashumaro writes it", () => {
    const type = t.dataclass("Outer", { name: t.string(), note: t.optional(t.string()), when: t.datetime() });
    expect(type.literalType.metadata).toEqual({
      type: "object",
      title: "Outer",
      properties: {
        name: { type: "string" },
        note: { anyOf: [{ type: "string" }, { type: "null" }], default: null },
        when: { type: "string", format: "date-time" },
      },
      additionalProperties: false,
      required: ["name", "when"],
    });
  });

  test("a file cannot be a struct field (its struct form is not modelled)", () => {
    expect(() => t.dataclass("X", { f: t.file() })).toThrow(/field "f" cannot be a struct field/);
  });
});

describe("defineInterface", () => {
  const iface = defineInterface({
    inputs: { z: t.int(), a: t.optional(t.string()), when: t.datetime() },
    outputs: { o1: t.list(t.float()), o0: t.enum(["low", "high"]), o2: t.optional(t.int()) },
  });

  test("builds the proto interface with variables sorted by name, as flyte-sdk does", () => {
    const expected = fromJson(TypedInterfaceSchema, {
      inputs: {
        variables: [
          { key: "a", value: { type: json(t.optional(t.string())) } },
          { key: "when", value: { type: { simple: "DATETIME" } } },
          { key: "z", value: { type: { simple: "INTEGER" } } },
        ],
      },
      outputs: {
        variables: [
          { key: "o0", value: { type: { enumType: { values: ["low", "high"] } } } },
          { key: "o1", value: { type: { collectionType: { simple: "FLOAT" } } } },
          { key: "o2", value: { type: json(t.optional(t.int())) } },
        ],
      },
    });
    expect(toJson(TypedInterfaceSchema, iface.typedInterface)).toEqual(toJson(TypedInterfaceSchema, expected));
    expect(Object.keys(iface.outputTypes)).toEqual(["o0", "o1", "o2"]);
  });

  test("values typed by the interface convert both ways", () => {
    const inputs: InputsOf<typeof iface> = { z: 3n, a: null, when: Datetime.fromISOString("2024-01-02T00:00:00Z") };
    const back: InputsOf<typeof iface> = valuesFromInputs(inputsFromValues(inputs, iface.typedInterface), iface.typedInterface) as InputsOf<typeof iface>;
    expect(back).toEqual(inputs);
    const outputs: OutputsOf<typeof iface> = { o0: "low", o1: [1, 2.5] };
    expect(outputsFromValues(outputs, iface.outputTypes).literals.map((l) => l.name)).toEqual(["o0", "o1", "o2"]);
  });

  test("the compiler checks a connector's inputs and outputs against the interface", async () => {
    class Doubler extends AsyncConnector<{ n: string }, InputsOf<typeof iface>, OutputsOf<typeof iface>> {
      readonly name = "Doubler";
      readonly taskTypeName = "doubler";
      override readonly outputTypes = iface.outputTypes;
      async create(req: CreateRequest<InputsOf<typeof iface>>): Promise<{ n: string }> {
        const z: bigint = req.inputs.z;
        const a: string | null = req.inputs.a;
        // @ts-expect-error an INTEGER input is a bigint, not a number
        const wrong: number = req.inputs.z;
        void wrong;
        return { n: String(z * 2n) + (a ?? "") };
      }
      async get(meta: { n: string }): Promise<Resource<OutputsOf<typeof iface>>> {
        if (meta.n === "") {
          // @ts-expect-error "medium" is not one of the enum values
          return { phase: "SUCCEEDED", outputs: { o0: "medium", o1: [] } };
        }
        if (meta.n === "-") {
          // @ts-expect-error o1 is a list of floats
          return { phase: "SUCCEEDED", outputs: { o0: "low", o1: ["x"] } };
        }
        return { phase: "SUCCEEDED", outputs: { o0: "high", o1: [Number(meta.n)] } };
      }
      async delete(): Promise<void> {}
    }
    const c = new Doubler();
    const meta = await c.create({ inputs: { z: 21n, a: "!", when: Datetime.now() } } as CreateRequest<InputsOf<typeof iface>>);
    expect(meta).toEqual({ n: "42!" });
    expect(c.outputTypes).toBe(iface.outputTypes);
  });

  test("value types of the builders", () => {
    const int: ValueOf<ReturnType<typeof t.int>> = 1n;
    const intOut: WritableValueOf<ReturnType<typeof t.int>> = 1;
    // @ts-expect-error an INTEGER is read as a bigint
    const notNumber: ValueOf<ReturnType<typeof t.int>> = 1;
    const stats = t.dataclass("Stats", { mean: t.float(), count: t.int(), note: t.optional(t.string()) });
    const s: ValueOf<typeof stats> = { mean: 1.5, count: 3, note: null };
    const sOut: WritableValueOf<typeof stats> = { mean: 1.5, count: 3n };
    // @ts-expect-error count is required
    const sBad: WritableValueOf<typeof stats> = { mean: 1.5 };
    expect([int, intOut, notNumber, s, sOut, sBad]).toHaveLength(6);
  });
});
