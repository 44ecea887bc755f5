import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Literal } from "#idl/flyteidl2/core/literals_pb.js";
import type { LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { describeLiteral, describeType, describeValue } from "./describe.js";
import { LiteralError, literalErrorWithin } from "./errors.js";
import { MSGPACK_TAG, PB_TYPE_KEY, PICKLE_METADATA_FORMAT, TAG } from "./flyte-names.js";
import { binaryLiteral, genericLiteral } from "./literal-messages.js";
import { msgpackFromValue, type MsgpackFlavor } from "./msgpack/msgpack-from-value.js";
import { isObject } from "./msgpack/json-schema.js";
import { valueFromMsgpack } from "./msgpack/value-from-msgpack.js";
import { PickledValue } from "./pickled-value.js";
import { isPlainRecord, setEntry } from "./plain-record.js";

/**
 * STRUCT types: dataclasses, pydantic models (and the tuple/NamedTuple/TypedDict wrappers), untyped dicts, and
 * protobuf messages (docs/flyte-literals.md §2.10–2.12, §2.17). The value is plain data: objects, arrays, strings, numbers
 * (bigint beyond ±2^53), booleans, null, Uint8Array; a `Map` where Python used non-string keys.
 * @internal
 */

/** Whether a STRUCT type stands for a protobuf message (`metadata.pb_type`), written as a `generic` Struct. */
function isProtobufStruct(type: LiteralType): boolean {
  return typeof type.metadata?.[PB_TYPE_KEY] === "string";
}

/** The JSON schema of a dataclass/pydantic STRUCT, if the type carries one. */
function schemaOf(type: LiteralType): JsonObject | undefined {
  const m = type.metadata;
  return m !== undefined && (isObject(m["properties"]) || typeof m["type"] === "string" || isObject(m["$defs"])) ? m : undefined;
}

function flavorOf(type: LiteralType): MsgpackFlavor {
  const tag = type.structure?.tag ?? "";
  if (tag === TAG.pydantic) return "pydantic";
  // Untagged STRUCTs with a titled schema are legacy dataclasses (docs/flyte-literals.md §4).
  if (tag === TAG.dataclass || schemaOf(type) !== undefined) return "mashumaro";
  return "plain";
}

/** STRUCT → plain data, from a msgpack binary or a `generic` Struct (what UIs and TranslatorService send). */
export function valueFromStructLiteral(literal: Literal, type: LiteralType): unknown {
  const scalar = literal.value.case === "scalar" ? literal.value.value.value : undefined;
  if (scalar?.case === "binary") {
    const { tag, value } = scalar.value;
    if (tag !== MSGPACK_TAG) {
      throw new LiteralError(
        tag === ""
          ? "expected a msgpack binary, got an untagged binary (a Python pickle?)"
          : `expected a msgpack binary, got binary tag ${JSON.stringify(tag)}`,
      );
    }
    try {
      return valueFromMsgpack(value);
    } catch (err) {
      throw new LiteralError(`corrupt msgpack for ${describeType(type)}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (scalar?.case === "generic") {
    if (literal.metadata["format"] === PICKLE_METADATA_FORMAT) return new PickledValue(literal);
    return scalar.value;
  }
  throw new LiteralError(`expected ${describeType(type)} as msgpack or Struct, got ${describeLiteral(literal)}`);
}

/** Plain data → STRUCT literal: msgpack for dataclasses, pydantic models and dicts; a Struct for protobuf messages. */
export function literalFromStructValue(value: unknown, type: LiteralType): Literal {
  if (value instanceof PickledValue) return value.literal;
  if (isProtobufStruct(type)) {
    if (!isPlainRecord(value)) throw new LiteralError(`expected an object for ${describeType(type)}, got ${describeValue(value)}`);
    return genericLiteral(jsonObjectFrom(value));
  }
  if (!isPlainRecord(value) && !(value instanceof Map)) {
    throw new LiteralError(`expected an object or a Map for ${describeType(type)}, got ${describeValue(value)}`);
  }
  const bytes = msgpackFromValue(value, { schema: schemaOf(type), flavor: flavorOf(type) });
  return binaryLiteral(bytes, MSGPACK_TAG);
}

/** A `google.protobuf.Struct` holds JSON only: no bigint beyond 2^53, no NaN, no undefined in arrays. */
function jsonObjectFrom(value: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === undefined) continue;
    try {
      setEntry(out, key, jsonValueFrom(v));
    } catch (err) {
      throw literalErrorWithin(err, `[${JSON.stringify(key)}]`);
    }
  }
  return out;
}

function jsonValueFrom(value: unknown): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new LiteralError(`a Struct cannot hold ${value}`);
    return value;
  }
  if (typeof value === "bigint") {
    if (BigInt(Number(value)) !== value) throw new LiteralError(`a Struct holds numbers as doubles; ${value} would lose digits`);
    return Number(value);
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      try {
        return jsonValueFrom(v ?? null);
      } catch (err) {
        throw literalErrorWithin(err, `[${i}]`);
      }
    });
  }
  if (isPlainRecord(value)) return jsonObjectFrom(value);
  throw new LiteralError(`a Struct cannot hold ${describeValue(value)}`);
}
