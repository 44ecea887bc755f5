import { create } from "@bufbuild/protobuf";
import { TypedInterfaceSchema } from "#idl/flyteidl2/core/interface_pb.js";
import { bigQueryParametersFrom } from "../../../src/connectors/bigquery/bigquery-parameters.js";
import { InvalidTaskError } from "../../../src/connectors/errors.js";
import { Datetime } from "../../../src/literals/datetime.js";
import { t } from "../../../src/literals/t.js";

const iface = (types: Record<string, { literalType: unknown }>) =>
  create(TypedInterfaceSchema, { inputs: { variables: Object.entries(types).map(([key, v]) => ({ key, value: { type: v.literalType as never } })) } });

describe("BigQuery parameters from the declared types", () => {
  test("scalars, enums, Optional None, lists and special floats", () => {
    const types = { b: t.bool(), e: t.enum(["red", "blue"]), f: t.float(), maybe: t.optional(t.int()), ts: t.list(t.datetime()) };
    const values = { b: true, e: "blue", f: Number.NaN, maybe: null, ts: [Datetime.fromISOString("2024-05-06T07:08:09Z")] };
    expect(bigQueryParametersFrom(values, iface(types))).toEqual([
      { name: "b", parameterType: { type: "BOOL" }, parameterValue: { value: "true" } },
      { name: "e", parameterType: { type: "STRING" }, parameterValue: { value: "blue" } },
      { name: "f", parameterType: { type: "FLOAT64" }, parameterValue: { value: "NaN" } },
      { name: "maybe", parameterType: { type: "INT64" }, parameterValue: {} },
      {
        name: "ts",
        parameterType: { type: "ARRAY", arrayType: { type: "DATETIME" } },
        parameterValue: { arrayValues: [{ value: "2024-05-06T07:08:09.000000" }] },
      },
    ]);
  });

  test("types BigQuery cannot bind are refused naming the input", () => {
    expect(() => bigQueryParametersFrom({ m: {} }, iface({ m: t.map(t.int()) }))).toThrow(InvalidTaskError);
    expect(() => bigQueryParametersFrom({ m: {} }, iface({ m: t.map(t.int()) }))).toThrow('input "m"');
    expect(() => bigQueryParametersFrom({ l: [[1n]] }, iface({ l: t.list(t.list(t.int())) }))).toThrow("no arrays of arrays");
  });
});
