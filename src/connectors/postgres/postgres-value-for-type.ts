import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { Datetime } from "../../literals/datetime.js";
import { Timedelta } from "../../literals/timedelta.js";
import { withoutOptional } from "./postgres-output-kind.js";

/**
 * Turns a value read from PostgreSQL into what the type engine expects for the declared type, so that the
 * usual SQL spellings fit: `count(*)` (int8, a bigint) fills a `float`, `numeric` text fills an `int` or a
 * `float`, a `date` fills a `datetime`, any scalar fills a `str`. A value that still does not fit is left as
 * it is, and the type engine's message names the output.
 */
export function valueForType(value: unknown, declared: LiteralType): unknown {
  if (value === null || value === undefined) return null;
  const type = withoutOptional(declared);
  switch (type.type.case) {
    case "simple":
      return simpleValue(value, type.type.value, type.metadata);
    case "enumType":
      return typeof value === "string" ? value : String(value);
    case "collectionType": {
      const element = type.type.value;
      return Array.isArray(value) ? value.map((v) => valueForType(v, element)) : value;
    }
    case "mapValueType": {
      const element = type.type.value;
      return isRecord(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, valueForType(v, element)])) : value;
    }
    default:
      return value;
  }
}

function simpleValue(value: unknown, simple: SimpleType, schema: JsonObject | undefined): unknown {
  switch (simple) {
    case SimpleType.INTEGER:
      if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
      return value;
    case SimpleType.FLOAT:
      if (typeof value === "bigint") return Number(value);
      if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
      if (value === "NaN") return NaN;
      return value;
    case SimpleType.STRING:
      return stringValue(value);
    case SimpleType.DATETIME:
      if (typeof value === "string") {
        try {
          return Datetime.fromISOString(value);
        } catch {
          return value;
        }
      }
      return value;
    case SimpleType.DURATION:
      return typeof value === "string" ? (durationFromIso(value) ?? value) : value;
    case SimpleType.STRUCT:
      return isRecord(value) ? recordValue(value, schema) : value;
    default:
      return value;
  }
}

function stringValue(value: unknown): unknown {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Datetime || value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (typeof value === "object") return JSON.stringify(jsonSafe(value));
  return value;
}

/**
 * A row as a STRUCT value (a dataclass or `dict`): plain JSON-like data, as flyte-sdk's msgpack decoders read
 * it. Datetimes become ISO strings (mashumaro reads datetime fields from `isoformat()` text); where the
 * dataclass's JSON schema declares a property `integer` or `number`, numeric text is converted. A schema that
 * allows no additional properties (a dataclass) selects its fields from the row.
 */
function recordValue(row: Record<string, unknown>, schema: JsonObject | undefined): Record<string, unknown> {
  const properties = schema && isRecord(schema["properties"]) ? (schema["properties"] as Record<string, JsonValue>) : undefined;
  // A dataclass takes its fields, in its order; other columns of `SELECT *` are not part of it.
  const closed = properties !== undefined && schema?.["additionalProperties"] === false;
  const keys = closed ? Object.keys(properties).filter((k) => Object.hasOwn(row, k)) : Object.keys(row);
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = fieldValue(row[key], propertyType(properties?.[key]));
  return out;
}

function propertyType(property: JsonValue | undefined): string | undefined {
  if (!isRecord(property)) return undefined;
  const t = property["type"];
  if (typeof t === "string") return t;
  // Optional[int] is {"anyOf": [{"type": "integer"}, {"type": "null"}]}.
  const anyOf = property["anyOf"];
  if (Array.isArray(anyOf)) {
    const types = anyOf.map((a) => (isRecord(a) ? a["type"] : undefined)).filter((x) => typeof x === "string" && x !== "null");
    return types.length === 1 ? (types[0] as string) : undefined;
  }
  return undefined;
}

function fieldValue(value: unknown, jsonType: string | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (jsonType === "integer" && typeof value === "string" && /^-?\d+$/.test(value)) return toNumberIfSafe(BigInt(value));
  if (jsonType === "number" && (typeof value === "string" || typeof value === "bigint") && !Number.isNaN(Number(value))) return Number(value);
  if (jsonType === "string" && (typeof value === "number" || typeof value === "bigint")) return String(value);
  return jsonSafe(value);
}

/** Values a msgpack STRUCT can carry: datetimes as ISO text, safe bigints as numbers, bytes as they are. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return toNumberIfSafe(value);
  if (value instanceof Datetime || value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}

function toNumberIfSafe(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * An interval in PostgreSQL's `iso_8601` style (`P1DT2H3M4.5S`, `PT-0.5S`) as a Timedelta. A day counts as
 * 24 hours, as in Python's timedelta; months and years have no fixed length, so they are not converted.
 */
function durationFromIso(text: string): Timedelta | undefined {
  const m = /^P(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text === "P" || text.endsWith("T")) return undefined;
  const [, d = "0", h = "0", min = "0", s = "0"] = m;
  const [whole, frac = ""] = s.replace("-", "").split(".");
  const sign = s.startsWith("-") ? -1n : 1n;
  const secondsNanos = sign * (BigInt(whole!) * 1_000_000_000n + BigInt(frac.padEnd(9, "0").slice(0, 9)));
  const total = ((BigInt(d) * 24n + BigInt(h)) * 60n + BigInt(min)) * 60n * 1_000_000_000n + secondsNanos;
  return Timedelta.fromNanoseconds(total);
}
