import type { JsonObject } from "@bufbuild/protobuf";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import type { Binary, Blob, Literal, Primitive, Scalar, StructuredDataset } from "#idl/flyteidl2/core/literals_pb.js";
import type { BlobType, LiteralType, StructuredDatasetType } from "#idl/flyteidl2/core/types_pb.js";

/**
 * Literal messages built as plain objects. protobuf-es v2 messages are plain objects with `$typeName`, and
 * `create()` walks the schema for every call; building them directly keeps a 100k-element list cheap to
 * convert. Each builder sets every field `create()` would, so `equals()` and `toBinary()` see no difference
 * (checked in test/literals/literal-messages.test.ts).
 * @internal
 */

type PrimitiveValue = Primitive["value"];

function literalOf(value: Literal["value"], hash = ""): Literal {
  return { $typeName: "flyteidl2.core.Literal", value, hash, metadata: {} };
}

function scalarLiteral(value: Scalar["value"], hash = ""): Literal {
  return literalOf({ case: "scalar", value: { $typeName: "flyteidl2.core.Scalar", value } }, hash);
}

function primitiveLiteral(value: PrimitiveValue): Literal {
  return scalarLiteral({ case: "primitive", value: { $typeName: "flyteidl2.core.Primitive", value } });
}

export function integerLiteral(value: bigint): Literal {
  return primitiveLiteral({ case: "integer", value });
}

export function floatLiteral(value: number): Literal {
  return primitiveLiteral({ case: "floatValue", value });
}

export function stringLiteral(value: string): Literal {
  return primitiveLiteral({ case: "stringValue", value });
}

export function booleanLiteral(value: boolean): Literal {
  return primitiveLiteral({ case: "boolean", value });
}

export function datetimeLiteral(seconds: bigint, nanos: number): Literal {
  const value: Timestamp = { $typeName: "google.protobuf.Timestamp", seconds, nanos };
  return primitiveLiteral({ case: "datetime", value });
}

export function durationLiteral(seconds: bigint, nanos: number): Literal {
  const value: Duration = { $typeName: "google.protobuf.Duration", seconds, nanos };
  return primitiveLiteral({ case: "duration", value });
}

export function noneLiteral(): Literal {
  return scalarLiteral({ case: "noneType", value: { $typeName: "flyteidl2.core.Void" } });
}

export function collectionLiteral(literals: Literal[]): Literal {
  return literalOf({ case: "collection", value: { $typeName: "flyteidl2.core.LiteralCollection", literals } });
}

export function mapLiteral(literals: { [key: string]: Literal }): Literal {
  return literalOf({ case: "map", value: { $typeName: "flyteidl2.core.LiteralMap", literals } });
}

export function unionLiteral(value: Literal, type: LiteralType): Literal {
  return scalarLiteral({ case: "union", value: { $typeName: "flyteidl2.core.Union", value, type } });
}

export function binaryLiteral(value: Uint8Array, tag: string, hash = ""): Literal {
  const binary: Binary = { $typeName: "flyteidl2.core.Binary", value, tag };
  return scalarLiteral({ case: "binary", value: binary }, hash);
}

export function genericLiteral(value: JsonObject): Literal {
  return scalarLiteral({ case: "generic", value });
}

export function blobLiteral(uri: string, type: BlobType, hash: string): Literal {
  const blob: Blob = {
    $typeName: "flyteidl2.core.Blob",
    uri,
    metadata: { $typeName: "flyteidl2.core.BlobMetadata", type },
  };
  return scalarLiteral({ case: "blob", value: blob }, hash);
}

export function structuredDatasetLiteral(uri: string, type: StructuredDatasetType, hash: string): Literal {
  const dataset: StructuredDataset = {
    $typeName: "flyteidl2.core.StructuredDataset",
    uri,
    metadata: { $typeName: "flyteidl2.core.StructuredDatasetMetadata", structuredDatasetType: type },
  };
  return scalarLiteral({ case: "structuredDataset", value: dataset }, hash);
}
