import type { TypedInterface } from "#idl/flyteidl2/core/interface_pb.js";
import { SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { Datetime } from "../../literals/datetime.js";
import { InvalidTaskError } from "../errors.js";

/** A BigQuery REST `QueryParameter` (jobs.insert, `configuration.query.queryParameters[]`). */
export interface BigQueryParameter {
  readonly name: string;
  readonly parameterType: BigQueryParameterType;
  readonly parameterValue: BigQueryParameterValue;
}

export interface BigQueryParameterType {
  readonly type: string;
  readonly arrayType?: BigQueryParameterType;
}

/** Values travel as strings; a NULL is a value without `value`. */
export interface BigQueryParameterValue {
  readonly value?: string;
  readonly arrayValues?: readonly BigQueryParameterValue[];
}

const SCALAR: ReadonlyMap<SimpleType, string> = new Map([
  [SimpleType.BOOLEAN, "BOOL"],
  [SimpleType.INTEGER, "INT64"],
  [SimpleType.FLOAT, "FLOAT64"],
  [SimpleType.STRING, "STRING"],
  // The Python connector binds datetime as DATETIME (in UTC); TIMESTAMP would break its users' SQL, which
  // compares these parameters with DATETIME columns.
  [SimpleType.DATETIME, "DATETIME"],
]);

/** The declared type without Optional's None variant. */
function withoutNone(type: LiteralType): LiteralType {
  if (type.type.case !== "unionType") return type;
  const variants = type.type.value.variants.filter((v) => !(v.type.case === "simple" && v.type.value === SimpleType.NONE));
  return variants.length === 1 ? variants[0]! : type;
}

function parameterTypeOf(type: LiteralType, where: string): BigQueryParameterType {
  const t = withoutNone(type);
  if (t.type.case === "simple") {
    const scalar = SCALAR.get(t.type.value);
    if (scalar) return { type: scalar };
  }
  if (t.type.case === "enumType") return { type: "STRING" };
  if (t.type.case === "collectionType") {
    const element = parameterTypeOf(t.type.value, `${where} (its elements)`);
    if (element.type === "ARRAY") throw new InvalidTaskError(`${where}: BigQuery has no arrays of arrays`);
    return { type: "ARRAY", arrayType: element };
  }
  throw new InvalidTaskError(`${where}: its type cannot be a BigQuery query parameter; use bool, int, float, str, datetime, an enum or a list of those`);
}

/** `2024-01-02T03:04:05.123456`: the UTC wall time with microseconds, as the Python client writes DATETIME. */
function datetimeValue(d: Datetime): string {
  const micros = String(Math.floor(d.nanos / 1000)).padStart(6, "0");
  return `${d.toISOString().slice(0, 19)}.${micros}`;
}

function floatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  return String(n);
}

function parameterValueOf(value: unknown, type: BigQueryParameterType, where: string): BigQueryParameterValue {
  if (value === null || value === undefined) return {};
  const wrong = (): never => {
    throw new InvalidTaskError(`${where}: ${typeof value} value does not fit BigQuery ${type.type}`);
  };
  switch (type.type) {
    case "ARRAY":
      if (!Array.isArray(value)) return wrong();
      return { arrayValues: value.map((v, i) => parameterValueOf(v, type.arrayType!, `${where}[${i}]`)) };
    case "BOOL":
      return typeof value === "boolean" ? { value: String(value) } : wrong();
    case "INT64":
      return typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value)) ? { value: String(value) } : wrong();
    case "FLOAT64":
      return typeof value === "number" ? { value: floatValue(value) } : wrong();
    case "STRING":
      return typeof value === "string" ? { value } : wrong();
    case "DATETIME":
      return value instanceof Datetime ? { value: datetimeValue(value) } : wrong();
    default:
      return wrong();
  }
}

/**
 * The task's inputs as BigQuery named parameters (`@name` in the SQL), each typed by the type the task
 * interface DECLARES for it, not guessed from the value: `list[int]` becomes `ARRAY<INT64>`, an
 * Optional input that is None a typed NULL. Every input is bound, as the Python connector binds them.
 */
export function bigQueryParametersFrom(inputs: Readonly<Record<string, unknown>>, iface: TypedInterface | undefined): BigQueryParameter[] {
  const parameters: BigQueryParameter[] = [];
  for (const variable of iface?.inputs?.variables ?? []) {
    const declared = variable.value?.type;
    const where = `input "${variable.key}"`;
    if (!declared) throw new InvalidTaskError(`${where} has no declared type`);
    const parameterType = parameterTypeOf(declared, where);
    parameters.push({ name: variable.key, parameterType, parameterValue: parameterValueOf(inputs[variable.key], parameterType, where) });
  }
  return parameters;
}
