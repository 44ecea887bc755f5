import { mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { create, fromBinary, fromJson, toBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { TypedInterfaceSchema } from "#idl/flyteidl2/core/interface_pb.js";
import { LiteralSchema, type Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { LiteralTypeSchema, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { InputsSchema, NamedLiteralSchema } from "#idl/flyteidl2/task/common_pb.js";
import { inputsFromValues, valuesFromInputs } from "../../src/literals/convert.js";
import { LiteralError } from "../../src/literals/errors.js";
import { literalFromValue } from "../../src/literals/literal-from-value.js";
import { fetchOffloadedLiterals } from "../../src/literals/offloaded-literal.js";
import { PickledValue } from "../../src/literals/pickled-value.js";
import { valueFromLiteral } from "../../src/literals/value-from-literal.js";
import { ANNOTATED_DATAFRAME_LT, CONTAINER_ERROR_LT, SET_PICKLE_LT, SPEC_VECTORS } from "./fixtures/spec-vectors.js";

const lt = (json: JsonValue): LiteralType => fromJson(LiteralTypeSchema, json);
const lit = (json: JsonValue): Literal => fromJson(LiteralSchema, json);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const bytesOf = (literal: Literal): string => hex(toBinary(LiteralSchema, literal));

describe.each(SPEC_VECTORS.map((v) => [`${v.id} ${v.what}`, v] as const))("%s", (_name, v) => {
  const type = lt(v.lt);
  const literal = lit(v.lit);

  if (v.bin !== undefined) {
    test("the fixture is the spec's bytes", () => expect(bytesOf(literal)).toBe(v.bin));
  }
  if (v.msgpack !== undefined) {
    test("the fixture holds the spec's msgpack", () => {
      const scalar = literal.value.case === "scalar" ? literal.value.value.value : undefined;
      expect(scalar?.case === "binary" ? hex(scalar.value.value) : undefined).toBe(v.msgpack);
    });
  }

  test("literal → value", () => {
    expect(valueFromLiteral(literal, type)).toEqual(v.value);
  });

  test(v.writesAs === undefined ? "value → the same literal, byte-equal" : "value → the literal it is written as", () => {
    const expected = v.writesAs === undefined ? literal : lit(v.writesAs);
    const value = valueFromLiteral(literal, type);
    expect(bytesOf(literalFromValue(value, type))).toBe(bytesOf(expected));
    expect(bytesOf(literalFromValue(v.value, type))).toBe(bytesOf(expected));
  });

  if (v.alsoFrom !== undefined) {
    test.each(v.alsoFrom.map((x, i) => [i, x] as const))("alternative value %i writes the same literal", (_i, other) => {
      expect(bytesOf(literalFromValue(other, type))).toBe(bytesOf(literal));
    });
  }
});

describe("vectors with a type but no literal, or with opaque bytes", () => {
  test("V02: 2**63 does not fit an INTEGER", () => {
    expect(() => literalFromValue(2n ** 63n, lt({ simple: "INTEGER" }))).toThrow(/out of the int64 range/);
    expect(() => literalFromValue(-(2n ** 63n) - 1n, lt({ simple: "INTEGER" }))).toThrow(LiteralError);
    expect(bytesOf(literalFromValue(-(2n ** 63n), lt({ simple: "INTEGER" })))).toBe("0a0d0a0b0880808080808080808001");
  });

  test("V13: Dict[str,List[Dict[str,timedelta]]] nests", () => {
    const type = lt({ mapValueType: { collectionType: { mapValueType: { simple: "DURATION" } } } });
    const literal = lit({
      map: { literals: { k: { collection: { literals: [{ map: { literals: { d: { scalar: { primitive: { duration: "1.5s" } } } } } }] } } } },
    });
    const value = valueFromLiteral(literal, type) as Record<string, Record<string, { toString(): string }>[]>;
    expect(value["k"]![0]!["d"]!.toString()).toBe("1.500s");
    expect(bytesOf(literalFromValue(value, type))).toBe(bytesOf(literal));
  });

  test("V36: an annotated DataFrame keeps its declared columns and format", () => {
    const type = lt(ANNOTATED_DATAFRAME_LT);
    const literal = lit({
      scalar: {
        structuredDataset: {
          uri: "s3://b/df2",
          metadata: {
            structuredDatasetType: {
              columns: [
                { name: "a", literalType: { simple: "INTEGER" } },
                { name: "b", literalType: { simple: "STRING" } },
              ],
              format: "parquet",
            },
          },
        },
      },
    });
    const value = valueFromLiteral(literal, type) as { uri: string; format: string; columns: { name: string; type: LiteralType }[] };
    expect(value.uri).toBe("s3://b/df2");
    expect(value.format).toBe("parquet");
    expect(value.columns.map((c) => [c.name, toJson(LiteralTypeSchema, c.type)])).toEqual([
      ["a", { simple: "INTEGER" }],
      ["b", { simple: "STRING" }],
    ]);
    expect(bytesOf(literalFromValue(value, type))).toBe(bytesOf(literal));
    // A connector returning just a uri gets the declared columns and format, as flyte-sdk's encoders copy them.
    expect(bytesOf(literalFromValue({ uri: "s3://b/df2" }, type))).toBe(bytesOf(literal));
  });

  describe("V37: the pickle fallback", () => {
    const type = lt(SET_PICKLE_LT);
    const pickleBytes = Buffer.from("80059503000000000000008f942e", "hex").toString("base64");
    const binaryPickle = lit({ scalar: { binary: { value: pickleBytes } }, hash: "9c1185a5c5e9fc54612808977ee8f548" });
    const blobPickle = lit({ scalar: { blob: { metadata: { type: { format: "PythonPickle" } }, uri: "s3://b/p.pkl.gz" } } });

    test.each([
      ["an inline binary", binaryPickle],
      ["a PythonPickle blob", blobPickle],
    ])("%s reads as an opaque PickledValue with a clear message, and passes through unchanged", (_n, literal) => {
      const value = valueFromLiteral(literal, type);
      expect(value).toBeInstanceOf(PickledValue);
      expect((value as PickledValue).pythonClass).toBe("<class 'set'>");
      expect(String(value)).toMatch(/Python pickle of <class 'set'>: it cannot be unpickled outside Python/);
      expect(bytesOf(literalFromValue(value, type))).toBe(bytesOf(literal));
    });

    test("no JS value can be written as a pickle", () => {
      expect(() => literalFromValue(new Set([1, 2]), type)).toThrow(/pickle, which cannot be written outside Python/);
    });

    test("a dict pickled into a {pickle_file} Struct is opaque too", () => {
      const literal = lit({ scalar: { generic: { pickle_file: "s3://b/d.pkl" } }, metadata: { format: "pickle" } });
      const type = lt({ simple: "STRUCT", annotation: { annotations: { "cache-key-metadata": { "serialization-format": "msgpack" } } } });
      const value = valueFromLiteral(literal, type);
      expect(value).toBeInstanceOf(PickledValue);
      expect(bytesOf(literalFromValue(value, type))).toBe(bytesOf(literal));
    });
  });

  describe("V38: offloaded literals", () => {
    const stringType = lt({ simple: "STRING" });
    const offloaded = (uri: string) => lit({ offloadedMetadata: { uri, sizeBytes: "1048576", inferredType: { simple: "STRING" } } });

    test("the fixture is the spec's bytes", () => {
      expect(bytesOf(offloaded("s3://b/o/lit.pb"))).toBe("42190a0f73333a2f2f622f6f2f6c69742e7062108080401a020803");
    });

    const named = (name: string, literal: ReturnType<typeof lit>) => create(NamedLiteralSchema, { name, value: literal });
    const fetchFile = (uri: string) => readFile(uri.startsWith("file:") ? fileURLToPath(uri) : uri);

    test("conversion does no I/O: an unfetched offloaded literal is a clear error naming its uri", () => {
      expect(() => valueFromLiteral(offloaded("s3://b/o/lit.pb"), stringType)).toThrow(
        "offloaded literal at s3://b/o/lit.pb was not fetched before conversion (see fetchOffloadedLiterals)",
      );
    });

    test("fetchOffloadedLiterals replaces them at any nesting level, through any fetcher, and leaves others alone", async () => {
      const dir = mkdtempSync(join(tmpdir(), "fc-offloaded-"));
      const path = join(dir, "lit.pb");
      writeFileSync(path, toBinary(LiteralSchema, lit({ scalar: { primitive: { stringValue: "big" } } })));
      const list = lit({ collection: { literals: [toJson(LiteralSchema, offloaded(path)), { scalar: { primitive: { stringValue: "small" } } }] } });
      const plain = named("p", lit({ scalar: { primitive: { stringValue: "inline" } } }));
      const fetched = await fetchOffloadedLiterals([named("a", offloaded(pathToFileURL(path).href)), named("b", list), plain], fetchFile);
      expect(valueFromLiteral(fetched[0]!.value!, stringType)).toBe("big");
      expect(valueFromLiteral(fetched[1]!.value!, lt({ collectionType: { simple: "STRING" } }))).toEqual(["big", "small"]);
      expect(fetched[2]).toBe(plain);
      const untouched = [plain];
      expect(await fetchOffloadedLiterals(untouched, () => Promise.reject(new Error("no I/O expected")))).toBe(untouched);
    });

    test("a missing file and a file that is not a Literal are errors naming the input and the uri", async () => {
      const dir = mkdtempSync(join(tmpdir(), "fc-offloaded-"));
      await expect(fetchOffloadedLiterals([named("x", offloaded(join(dir, "none.pb")))], fetchFile)).rejects.toThrow(
        /^input 'x': cannot read offloaded literal at .*none\.pb: ENOENT/,
      );
      const junk = join(dir, "junk.pb");
      writeFileSync(junk, Buffer.from([0xff, 0xff, 0xff]));
      await expect(fetchOffloadedLiterals([named("y", offloaded(junk))], fetchFile)).rejects.toThrow(
        /^input 'y': offloaded literal at .*junk\.pb is not a serialized Literal/,
      );
      const deep = lit({ map: { literals: { k: toJson(LiteralSchema, offloaded(join(dir, "gone.pb"))) } } });
      await expect(fetchOffloadedLiterals([named("m", deep)], fetchFile)).rejects.toThrow(/^input 'm'\["k"\]: cannot read offloaded literal/);
    });
  });

  test("V39: a protobuf message as a generic Struct", () => {
    const type = lt(CONTAINER_ERROR_LT);
    const literal = lit({ scalar: { generic: { code: "code", message: "message" } } });
    const value = valueFromLiteral(literal, type);
    expect(value).toEqual({ code: "code", message: "message" });
    expect(bytesOf(literalFromValue(value, type))).toBe(bytesOf(literal));
    expect(() => literalFromValue({ code: NaN }, type)).toThrow(/Struct cannot hold NaN/);
  });

  test("V40: the Inputs envelope, both ways", () => {
    const iface = fromJson(TypedInterfaceSchema, {
      inputs: {
        variables: [
          { key: "a", value: { type: { simple: "INTEGER" } } },
          { key: "b", value: { type: { simple: "STRING" } } },
        ],
      },
    });
    const bytes = Buffer.from("0a0b0a016112060a040a02082a0a0d0a016212080a060a041a026869", "hex");
    const values = valuesFromInputs(fromBinary(InputsSchema, bytes), iface);
    expect(values).toEqual({ a: 42n, b: "hi" });
    expect(hex(toBinary(InputsSchema, inputsFromValues(values, iface)))).toBe(bytes.toString("hex"));
    expect(hex(toBinary(InputsSchema, inputsFromValues({ b: "hi", a: 42 }, iface)))).toBe(bytes.toString("hex"));
    expect(create(InputsSchema).literals).toEqual([]);
  });
});
