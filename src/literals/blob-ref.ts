import type { Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { BlobType_BlobDimensionality, type BlobType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { describeLiteral, describeType, describeValue } from "./describe.js";
import { LiteralError } from "./errors.js";
import { blobLiteral } from "./literal-messages.js";
import { isPlainRecord } from "./plain-record.js";

/**
 * A file (`flyte.io.File`, dimensionality SINGLE) or directory (`flyte.io.Dir`, MULTIPART) by reference: the
 * value of a Flyte blob. Nothing is downloaded; `uri` is where it lives (`s3://…`, `gs://…`, a local path).
 */
export interface BlobRef {
  readonly uri: string;
  /** The file format, such as `"csv"`; often `""`. */
  readonly format: string;
  readonly dimensionality: "SINGLE" | "MULTIPART";
  /** The content hash flyte-sdk uses in cache keys, when the producer set one. */
  readonly hash?: string;
}

/** What a connector may return for a blob output: `format` and `dimensionality` default from the declared type. */
export interface BlobRefInit {
  readonly uri: string;
  readonly format?: string;
  readonly dimensionality?: "SINGLE" | "MULTIPART";
  readonly hash?: string;
}

const DIMENSIONALITY = {
  [BlobType_BlobDimensionality.SINGLE]: "SINGLE",
  [BlobType_BlobDimensionality.MULTIPART]: "MULTIPART",
} as const;

/** @internal */
export function blobRefFromLiteral(literal: Literal, declared: BlobType, type: LiteralType): BlobRef {
  const scalar = literal.value.case === "scalar" ? literal.value.value.value : undefined;
  if (scalar?.case !== "blob") throw new LiteralError(`expected ${describeType(type)}, got ${describeLiteral(literal)}`);
  const blob = scalar.value;
  const blobType = blob.metadata?.type;
  const dimensionality = blobType?.dimensionality ?? BlobType_BlobDimensionality.SINGLE;
  // flyte-sdk's File refuses a directory and Dir a file (docs/flyte-literals.md §2.15).
  if (dimensionality !== declared.dimensionality) {
    throw new LiteralError(`expected ${describeType(type)}, got a ${DIMENSIONALITY[dimensionality] ?? dimensionality} blob`);
  }
  const ref: { -readonly [K in keyof BlobRef]: BlobRef[K] } = {
    uri: blob.uri,
    format: blobType?.format ?? "",
    dimensionality: DIMENSIONALITY[declared.dimensionality] ?? "SINGLE",
  };
  if (literal.hash !== "") ref.hash = literal.hash;
  return ref;
}

/** @internal */
export function literalFromBlobRef(value: unknown, declared: BlobType, type: LiteralType): Literal {
  if (!isPlainRecord(value) || typeof value["uri"] !== "string") {
    throw new LiteralError(`expected ${describeType(type)} as {uri, format?, hash?}, got ${describeValue(value)}`);
  }
  const { uri, format, dimensionality, hash } = value;
  const expected = DIMENSIONALITY[declared.dimensionality] ?? "SINGLE";
  if (dimensionality !== undefined && dimensionality !== expected) {
    throw new LiteralError(`expected a ${expected} blob for ${describeType(type)}, got dimensionality ${describeValue(dimensionality)}`);
  }
  if (format !== undefined && typeof format !== "string") throw new LiteralError(`blob format must be a string, got ${describeValue(format)}`);
  if (hash !== undefined && typeof hash !== "string") throw new LiteralError(`blob hash must be a string, got ${describeValue(hash)}`);
  const blobType: BlobType = {
    $typeName: "flyteidl2.core.BlobType",
    format: format ?? declared.format,
    dimensionality: declared.dimensionality,
  };
  return blobLiteral(uri, blobType, hash ?? "");
}
