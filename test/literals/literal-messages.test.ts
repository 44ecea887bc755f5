import { create, equals, toBinary } from "@bufbuild/protobuf";
import { LiteralSchema, type Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { BlobType_BlobDimensionality, SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import * as m from "../../src/literals/literal-messages.js";

/** The hand-built messages must be indistinguishable from `create()`'s, field for field. */
describe("literal-messages", () => {
  const scalar = (value: object) => create(LiteralSchema, { value: { case: "scalar", value: { value: value as never } } });
  const primitive = (value: object) => scalar({ case: "primitive", value: { value } });

  test.each<[string, Literal, Literal]>([
    ["integer", m.integerLiteral(-5n), primitive({ case: "integer", value: -5n })],
    ["float", m.floatLiteral(-0), primitive({ case: "floatValue", value: -0 })],
    ["string", m.stringLiteral(""), primitive({ case: "stringValue", value: "" })],
    ["boolean", m.booleanLiteral(false), primitive({ case: "boolean", value: false })],
    ["datetime", m.datetimeLiteral(1n, 2), primitive({ case: "datetime", value: { seconds: 1n, nanos: 2 } })],
    ["duration", m.durationLiteral(-1n, -2), primitive({ case: "duration", value: { seconds: -1n, nanos: -2 } })],
    ["none", m.noneLiteral(), scalar({ case: "noneType", value: {} })],
    [
      "collection",
      m.collectionLiteral([m.noneLiteral()]),
      create(LiteralSchema, { value: { case: "collection", value: { literals: [scalar({ case: "noneType", value: {} })] } } }),
    ],
    [
      "map",
      m.mapLiteral({ a: m.noneLiteral() }),
      create(LiteralSchema, { value: { case: "map", value: { literals: { a: scalar({ case: "noneType", value: {} }) } } } }),
    ],
    [
      "union",
      m.unionLiteral(m.noneLiteral(), { $typeName: "flyteidl2.core.LiteralType", type: { case: "simple", value: SimpleType.NONE } }),
      scalar({ case: "union", value: { value: scalar({ case: "noneType", value: {} }), type: { type: { case: "simple", value: SimpleType.NONE } } } }),
    ],
    [
      "binary",
      m.binaryLiteral(new Uint8Array([1]), "msgpack", "h"),
      { ...scalar({ case: "binary", value: { value: new Uint8Array([1]), tag: "msgpack" } }), hash: "h" },
    ],
    ["generic", m.genericLiteral({ a: 1 }), scalar({ case: "generic", value: { a: 1 } })],
    [
      "blob",
      m.blobLiteral("s3://x", { $typeName: "flyteidl2.core.BlobType", format: "csv", dimensionality: BlobType_BlobDimensionality.MULTIPART }, ""),
      scalar({ case: "blob", value: { uri: "s3://x", metadata: { type: { format: "csv", dimensionality: BlobType_BlobDimensionality.MULTIPART } } } }),
    ],
    [
      "structured dataset",
      m.structuredDatasetLiteral(
        "s3://x",
        { $typeName: "flyteidl2.core.StructuredDatasetType", columns: [], format: "parquet", externalSchemaType: "", externalSchemaBytes: new Uint8Array(0) },
        "h",
      ),
      { ...scalar({ case: "structuredDataset", value: { uri: "s3://x", metadata: { structuredDatasetType: { format: "parquet" } } } }), hash: "h" },
    ],
  ])("%s", (_name, built, expected) => {
    expect(equals(LiteralSchema, built, expected)).toBe(true);
    expect(built).toEqual(expected);
    expect(toBinary(LiteralSchema, built)).toEqual(toBinary(LiteralSchema, expected));
  });
});
