import { SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { Datetime } from "../../literals/datetime.js";
import { Timedelta } from "../../literals/timedelta.js";

function withoutOptional(type: LiteralType): LiteralType {
  if (type.type.case !== "unionType") return type;
  const variants = type.type.value.variants.filter((v) => !(v.type.case === "simple" && v.type.value === SimpleType.NONE));
  return variants.length === 1 ? variants[0]! : type;
}

/**
 * Turns a value taken from a JSON response into what the type engine expects for the declared type, for
 * the spellings JSON forces on APIs: a datetime is an ISO string, a duration a number of seconds (or
 * `"1.5s"`), a 64-bit integer sometimes a string. Anything that still does not fit is left as it is, and
 * the type engine's message names the output.
 */
export function jsonValueForType(value: unknown, declared: LiteralType): unknown {
  if (value === null || value === undefined) return null;
  const type = withoutOptional(declared);
  switch (type.type.case) {
    case "simple":
      switch (type.type.value) {
        case SimpleType.INTEGER:
          return typeof value === "string" && /^-?\d+$/.test(value) ? BigInt(value) : value;
        case SimpleType.FLOAT:
          return typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value)) ? Number(value) : value;
        case SimpleType.STRING:
          return typeof value === "number" || typeof value === "boolean" ? String(value) : value;
        case SimpleType.DATETIME:
          return convert(value, (v) =>
            typeof v === "string" ? Datetime.fromISOString(v) : typeof v === "number" ? Datetime.fromEpochMilliseconds(v * 1000) : v,
          );
        case SimpleType.DURATION:
          return convert(value, (v) => (typeof v === "number" ? Timedelta.fromSeconds(v) : typeof v === "string" ? Timedelta.fromString(v) : v));
        default:
          return value;
      }
    case "collectionType": {
      const element = type.type.value;
      return Array.isArray(value) ? value.map((v) => jsonValueForType(v, element)) : value;
    }
    case "mapValueType": {
      const element = type.type.value;
      return typeof value === "object" && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonValueForType(v, element)]))
        : value;
    }
    default:
      return value;
  }
}

function convert(value: unknown, f: (v: unknown) => unknown): unknown {
  try {
    return f(value);
  } catch {
    return value;
  }
}
