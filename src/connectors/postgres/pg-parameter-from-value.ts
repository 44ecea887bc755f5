/** What node-postgres sends for one bind parameter: text, bytes, an array of them, or NULL. */
export type PgParameter = string | number | boolean | Buffer | null | readonly PgParameter[];

function hasMethod(value: object, name: string): boolean {
  return typeof (value as Record<string, unknown>)[name] === "function";
}

/**
 * Turns an input value, as the type engine produced it from a Flyte literal, into a bind parameter.
 * Integers arrive as bigint and go as decimal text (PostgreSQL casts text to any numeric type without loss);
 * datetimes go as ISO-8601 in UTC, durations as seconds, records as JSON (for json/jsonb parameters), lists
 * as PostgreSQL arrays.
 */
export function pgParameterFromValue(value: unknown): PgParameter {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
    case "string":
    case "boolean":
      return value;
    case "object":
      break;
    default:
      throw new TypeError(`a ${typeof value} cannot be a query parameter`);
  }
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(pgParameterFromValue);
  if (value instanceof Date) return value.toISOString();
  // The type engine's Datetime (nanosecond precision) and Timedelta; recognised by shape so that a second copy
  // of flyte-connect in the process works too.
  if (hasMethod(value, "toISOString")) return (value as { toISOString(): string }).toISOString();
  if (hasMethod(value, "toSeconds") && typeof (value as { totalNanoseconds?: unknown }).totalNanoseconds === "bigint") {
    return `${(value as { toSeconds(): number }).toSeconds()} seconds`;
  }
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v));
}
