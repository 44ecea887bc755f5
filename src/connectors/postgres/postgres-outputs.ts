import { SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import type { OutputTypes } from "../connector.js";
import { ConnectorError } from "../errors.js";
import { isInlineKind, withoutOptional, type PostgresOutputKind } from "./postgres-output-kind.js";
import { valueForType } from "./postgres-value-for-type.js";

/** The rows read back from a result table, with the column names in table order. */
export interface ResultRows {
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
}

/** A result table, as a `str` output and as a DataFrame output name it. */
export interface ResultTableRef {
  /** `schema.table`, usable as it is in SQL. */
  readonly qualifiedName: string;
  /** `postgresql://host:port/database/schema.table`. */
  readonly uri: string;
}

export interface PostgresOutputsInput {
  readonly kinds: Readonly<Record<string, PostgresOutputKind>>;
  readonly types: OutputTypes;
  readonly rowCount: bigint;
  readonly maxInlineRows: number;
  readonly table: ResultTableRef;
  /** Reads at most `limit` rows of the result table. */
  readonly readRows: (limit: number) => Promise<ResultRows>;
}

function admitsNone(type: LiteralType): boolean {
  if (type.type.case === "simple") return type.type.value === SimpleType.NONE;
  return type.type.case === "unionType" && type.type.value.variants.some(admitsNone);
}

/**
 * The output values of a succeeded query, each taken from the result as its kind says and converted toward
 * its declared type. Throws a permanent {@link ConnectorError} when the result cannot fill an output: more
 * rows than may be returned inline, or no row for a scalar.
 */
export async function postgresOutputsFrom(input: PostgresOutputsInput): Promise<Record<string, unknown>> {
  const { kinds, types, rowCount } = input;
  const inline = Object.entries(kinds).filter(([, kind]) => isInlineKind(kind));
  const needsAllRows = inline.some(([, kind]) => kind === "rows" || kind === "column");
  if (needsAllRows && rowCount > BigInt(input.maxInlineRows)) {
    const names = inline.filter(([, k]) => k === "rows" || k === "column").map(([n]) => `"${n}"`);
    throw ConnectorError.permanent(
      `the query returned ${rowCount} rows, more than max_inline_rows (${input.maxInlineRows}) allows for output ${names.join(", ")}; ` +
        `declare the output as a DataFrame (or set custom["outputs"] to "table") to receive the result table ${input.table.qualifiedName} instead`,
    );
  }
  const result = inline.length > 0 ? await input.readRows(needsAllRows ? input.maxInlineRows : 1) : { columns: [], rows: [] };

  const outputs: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(kinds)) {
    const type = types[name];
    if (!type) continue;
    const column = result.columns.includes(name) ? name : result.columns[0];
    const first = result.rows[0];
    switch (kind) {
      case "rows":
        outputs[name] = valueForType(result.rows, type);
        break;
      case "column":
        outputs[name] = valueForType(
          result.rows.map((r) => (column === undefined ? null : r[column])),
          type,
        );
        break;
      case "row":
      case "value": {
        if (first === undefined) {
          if (admitsNone(type)) {
            outputs[name] = null;
            break;
          }
          throw ConnectorError.permanent(`the query returned no rows, so output "${name}" has no value`);
        }
        outputs[name] = valueForType(kind === "row" ? first : column === undefined ? null : first[column], type);
        break;
      }
      case "row_count":
        outputs[name] = valueForType(rowCount, type);
        break;
      case "table":
        outputs[name] = withoutOptional(type).type.case === "structuredDatasetType" ? { uri: input.table.uri } : input.table.qualifiedName;
        break;
    }
  }
  return outputs;
}
