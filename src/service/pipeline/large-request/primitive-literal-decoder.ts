import { create, type DescField, type DescMessage } from "@bufbuild/protobuf";
import type { PrimitiveOneof } from "../../../literals/deferred-map-field.js";

/**
 * Decodes a literal that is one primitive (`Literal{scalar{primitive{integer|float_value|string_value|
 * boolean}}}`), the leaf that a maximum-size literal map or list is made of, into the very object
 * `fromBinary` builds, without protobuf-es's general reader: `fromBinary` spends about 4 µs on each such leaf
 * (three messages, each created by reflection), this a fraction of one. Anything else (another kind of literal,
 * a hash or metadata, an unknown or repeated field, a length over one byte, a string that is not ASCII, an
 * integer beyond 2^49) is not decoded here: the function returns `undefined` and the caller uses `fromBinary`.
 *
 * `decoderFor(schema)` gives the decoder for a Literal schema (Flyte 2's and Flyte 1's have the same shape)
 * and `undefined` for any other message.
 */
export interface PrimitiveLiteralDecoder {
  /** The literal's messages, as fromBinary builds them, or undefined. */
  decode(data: Uint8Array, from: number, to: number): Record<string, unknown> | undefined;
  /** Only the primitive's oneof (`{case: "integer", value: 42n}`), written into `out`: true when it is one. */
  read(data: Uint8Array, from: number, to: number, out: PrimitiveOneof): boolean;
}

const decoders = new WeakMap<DescMessage, PrimitiveLiteralDecoder | null>();

export function decoderFor(schema: DescMessage): PrimitiveLiteralDecoder | undefined {
  let decoder = decoders.get(schema);
  if (decoder === undefined) {
    decoder = buildDecoder(schema) ?? null;
    decoders.set(schema, decoder);
  }
  return decoder ?? undefined;
}

const LEN = 2;
const VARINT = 0;
const I64 = 1;

function field(schema: DescMessage | undefined, name: string): DescField | undefined {
  return schema?.fields.find((f) => f.localName === name);
}

function buildDecoder(literal: DescMessage): PrimitiveLiteralDecoder | undefined {
  const scalarField = field(literal, "scalar");
  const scalar = scalarField?.fieldKind === "message" ? scalarField.message : undefined;
  const primitiveField = field(scalar, "primitive");
  const primitive = primitiveField?.fieldKind === "message" ? primitiveField.message : undefined;
  const integer = field(primitive, "integer");
  const float = field(primitive, "floatValue");
  const string = field(primitive, "stringValue");
  const boolean = field(primitive, "boolean");
  if (!literal.typeName.endsWith(".core.Literal") || !scalarField?.oneof || !primitiveField?.oneof || !integer?.oneof || !float || !string || !boolean) {
    return undefined;
  }
  // The objects below are written out for a Scalar and a Primitive that are one oneof each, as they are today.
  if (!scalar!.fields.every((f) => f.oneof === primitiveField.oneof) || !primitive!.fields.every((f) => f.oneof === integer.oneof)) return undefined;
  const literalOneof = scalarField.oneof.localName;
  const scalarOneof = primitiveField.oneof.localName;
  const primitiveOneof = integer.oneof.localName;
  const scalarTag = (scalarField.number << 3) | LEN;
  const primitiveTag = (primitiveField.number << 3) | LEN;
  const integerTag = (integer.number << 3) | VARINT;
  const floatTag = (float.number << 3) | I64;
  const stringTag = (string.number << 3) | LEN;
  const booleanTag = (boolean.number << 3) | VARINT;
  const single = [scalarTag, primitiveTag, integerTag, floatTag, stringTag, booleanTag].every((t) => t < 0x80);
  if (!single) return undefined;
  const blank = blankFactory(literal);
  const scalarName = scalar!.typeName;
  const primitiveName = primitive!.typeName;
  const view = new DataView(new ArrayBuffer(8));

  const read = (data: Uint8Array, from: number, to: number, out: PrimitiveOneof): boolean => {
    // Literal: scalar tag, scalar length, then Scalar: primitive tag, primitive length, then Primitive.
    const n = to - from;
    if (n < 5 || data[from] !== scalarTag || data[from + 1] !== n - 2 || data[from + 2] !== primitiveTag || data[from + 3] !== n - 4) return false;
    const tag = data[from + 4];
    const at = from + 5;
    if (tag === integerTag) {
      const int = smallVarint(data, at, to);
      if (int === undefined) return false;
      out.case = integer.localName;
      out.value = BigInt(int);
    } else if (tag === floatTag) {
      if (n !== 13) return false;
      for (let i = 0; i < 8; i++) view.setUint8(i, data[at + i]!);
      out.case = float.localName;
      out.value = view.getFloat64(0, true);
    } else if (tag === stringTag) {
      if (data[at] !== n - 6) return false;
      const value = asciiString(data, at + 1, to);
      if (value === undefined) return false;
      out.case = string.localName;
      out.value = value;
    } else if (tag === booleanTag) {
      if (n !== 6 || data[at]! > 1) return false;
      out.case = boolean.localName;
      out.value = data[at] === 1;
    } else {
      return false;
    }
    return true;
  };

  return {
    read,
    decode(data, from, to) {
      const oneof: PrimitiveOneof = { case: undefined, value: undefined };
      if (!read(data, from, to, oneof)) return undefined;
      const message = blank();
      message[literalOneof] = {
        case: scalarField.localName,
        value: {
          $typeName: scalarName,
          [scalarOneof]: { case: primitiveField.localName, value: { $typeName: primitiveName, [primitiveOneof]: oneof } },
        },
      };
      return message;
    },
  };
}

/** A varint that ends exactly at `to` and holds at most 49 bits (a safe integer), else undefined. */
function smallVarint(data: Uint8Array, at: number, to: number): number | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < to && i < at + 7; i++) {
    const b = data[i]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return i === to - 1 ? value : undefined;
    scale *= 128;
  }
  return undefined;
}

const utf8 = new TextDecoder();

export function isAscii(data: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (data[i]! >= 0x80) return false;
  return true;
}

/** The bytes `from` to `to` as a string when they are all ASCII (so UTF-8 and Latin-1 agree), else undefined. */
export function asciiString(data: Uint8Array, from: number, to: number): string | undefined {
  if (!isAscii(data, from, to)) return undefined;
  if (to - from > 24) return utf8.decode(data.subarray(from, to));
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(data[i]!);
  return s;
}

/** A fresh message as `create(schema)` makes it: defaults from one template, new objects for maps and lists. */
function blankFactory(schema: DescMessage): () => Record<string, unknown> {
  const template = create(schema) as unknown as Record<string, unknown>;
  const containers = schema.fields.filter((f) => f.fieldKind === "map" || f.fieldKind === "list");
  return () => {
    const message = { ...template };
    for (const f of containers) message[f.localName] = f.fieldKind === "map" ? {} : [];
    return message;
  };
}
