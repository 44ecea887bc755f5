import { SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";

/**
 * What an output takes from a finished query:
 * - `rows`: every row, as a record of column values (a `list[SomeDataclass]` or `list[dict]` output);
 * - `column`: one column of every row (a `list[int]` output): the column named like the output, else the first;
 * - `row`: the first row as a record (a dataclass or `dict` output);
 * - `value`: one column of the first row (an `int`, `str`, … output), chosen as for `column`;
 * - `row_count`: the number of rows;
 * - `table`: the result table itself, for results too large to return inline, as the BigQuery connector
 *   returns its destination table. A `str` output gets the qualified table name, a DataFrame output a
 *   `postgresql://host:port/database/schema.table` URI.
 */
export type PostgresOutputKind = "rows" | "column" | "row" | "value" | "row_count" | "table";

export const POSTGRES_OUTPUT_KINDS: readonly PostgresOutputKind[] = ["rows", "column", "row", "value", "row_count", "table"];

/** Whether an output kind needs the rows themselves, and so a result small enough to return inline. */
export function isInlineKind(kind: PostgresOutputKind): boolean {
  return kind !== "table" && kind !== "row_count";
}

/** `Optional[T]` is a union of T and NONE; what a query produces is decided by T. */
export function withoutOptional(type: LiteralType): LiteralType {
  if (type.type.case !== "unionType") return type;
  const variants = type.type.value.variants.filter((v) => !(v.type.case === "simple" && v.type.value === SimpleType.NONE));
  return variants.length === 1 ? variants[0]! : type;
}

function isRecordType(type: LiteralType): boolean {
  return (type.type.case === "simple" && type.type.value === SimpleType.STRUCT) || type.type.case === "mapValueType";
}

function isScalarType(type: LiteralType): boolean {
  if (type.type.case === "enumType") return true;
  if (type.type.case !== "simple") return false;
  return [SimpleType.INTEGER, SimpleType.FLOAT, SimpleType.STRING, SimpleType.BOOLEAN, SimpleType.DATETIME, SimpleType.DURATION].includes(type.type.value);
}

/**
 * The kind an output gets from its declared type when the task does not name one: records and lists of
 * records get rows, lists of scalars a column, scalars a value, a DataFrame the result table. Undefined for a
 * type a query result cannot fill (a file, for instance).
 */
export function defaultOutputKindOf(declared: LiteralType): PostgresOutputKind | undefined {
  const type = withoutOptional(declared);
  if (type.type.case === "structuredDatasetType") return "table";
  if (type.type.case === "collectionType") {
    const element = withoutOptional(type.type.value);
    if (isRecordType(element)) return "rows";
    if (isScalarType(element)) return "column";
    return undefined;
  }
  if (isRecordType(type)) return "row";
  if (isScalarType(type)) return "value";
  return undefined;
}
