import type { Literal } from "#idl/flyteidl2/core/literals_pb.js";
import type { LiteralType, StructuredDatasetType, StructuredDatasetType_DatasetColumn } from "#idl/flyteidl2/core/types_pb.js";
import { describeLiteral, describeType, describeValue } from "./describe.js";
import { LiteralError } from "./errors.js";
import { structuredDatasetLiteral } from "./literal-messages.js";
import { isPlainRecord } from "./plain-record.js";

/** One column of a structured dataset: its name and Flyte type. */
export interface DatasetColumn {
  readonly name: string;
  readonly type: LiteralType;
}

/**
 * A structured dataset (`flyte.io.DataFrame`, a pandas or arrow table) by reference: the value of a Flyte
 * structured dataset. Nothing is read; `uri` is where the data lives.
 */
export interface DatasetRef {
  readonly uri: string;
  /** The storage format, such as `"parquet"`; `""` when the producer did not say. */
  readonly format: string;
  /** The declared columns if the type declares any, else the literal's (docs/flyte-literals.md §2.16). */
  readonly columns: readonly DatasetColumn[];
  /** The content hash used in cache keys, when the producer set one. */
  readonly hash?: string;
}

/** What a connector may return for a dataset output: `format` and `columns` default from the declared type. */
export interface DatasetRefInit {
  readonly uri: string;
  readonly format?: string;
  readonly columns?: readonly DatasetColumn[];
  readonly hash?: string;
}

/** @internal */
export function datasetRefFromLiteral(literal: Literal, declared: StructuredDatasetType, type: LiteralType): DatasetRef {
  const scalar = literal.value.case === "scalar" ? literal.value.value.value : undefined;
  if (scalar?.case !== "structuredDataset") throw new LiteralError(`expected ${describeType(type)}, got ${describeLiteral(literal)}`);
  const dataset = scalar.value;
  const own = dataset.metadata?.structuredDatasetType;
  const columns = declared.columns.length > 0 ? declared.columns : (own?.columns ?? []);
  const ref: { -readonly [K in keyof DatasetRef]: DatasetRef[K] } = {
    uri: dataset.uri,
    format: own?.format || declared.format,
    columns: columns.map(columnFromProto),
  };
  if (literal.hash !== "") ref.hash = literal.hash;
  return ref;
}

/** @internal */
export function literalFromDatasetRef(value: unknown, declared: StructuredDatasetType, type: LiteralType): Literal {
  if (!isPlainRecord(value) || typeof value["uri"] !== "string") {
    throw new LiteralError(`expected ${describeType(type)} as {uri, format?, columns?}, got ${describeValue(value)}`);
  }
  const { uri, format, columns, hash } = value;
  if (format !== undefined && typeof format !== "string") throw new LiteralError(`dataset format must be a string, got ${describeValue(format)}`);
  if (hash !== undefined && typeof hash !== "string") throw new LiteralError(`dataset hash must be a string, got ${describeValue(hash)}`);
  if (columns !== undefined && !Array.isArray(columns)) throw new LiteralError(`dataset columns must be an array, got ${describeValue(columns)}`);
  // Columns and the external schema come from the declared type, as flyte-sdk's encoders copy them (§2.16).
  const sdType: StructuredDatasetType = {
    $typeName: "flyteidl2.core.StructuredDatasetType",
    columns: columns === undefined ? declared.columns : (columns as unknown[]).map(columnToProto),
    format: format ?? declared.format,
    externalSchemaType: declared.externalSchemaType,
    externalSchemaBytes: declared.externalSchemaBytes,
  };
  return structuredDatasetLiteral(uri, sdType, hash ?? "");
}

function columnFromProto(column: StructuredDatasetType_DatasetColumn): DatasetColumn {
  if (column.literalType === undefined) throw new LiteralError(`dataset column ${JSON.stringify(column.name)} has no type`);
  return { name: column.name, type: column.literalType };
}

function columnToProto(column: unknown, i: number): StructuredDatasetType_DatasetColumn {
  if (!isPlainRecord(column) || typeof column["name"] !== "string" || typeof column["type"] !== "object" || column["type"] === null) {
    throw new LiteralError(`dataset column ${i} must be {name, type: LiteralType}, got ${describeValue(column)}`);
  }
  return { $typeName: "flyteidl2.core.StructuredDatasetType.DatasetColumn", name: column["name"], literalType: column["type"] as LiteralType };
}
