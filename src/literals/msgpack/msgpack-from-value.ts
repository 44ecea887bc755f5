import { Datetime } from "../datetime.js";
import { describeValue } from "../describe.js";
import { LiteralError, literalErrorWithin } from "../errors.js";
import { isPlainRecord } from "../plain-record.js";
import { Timedelta } from "../timedelta.js";
import { MsgpackWriter } from "./msgpack-writer.js";
import { compileSchema, type CompiledSchema } from "./compiled-schema.js";
import type { SchemaNode } from "./json-schema.js";

/**
 * Whose encoding a struct follows inside msgpack (docs/flyte-literals.md §2.10–2.12): a dataclass goes through mashumaro
 * (datetime `+00:00`, timedelta as float seconds), a pydantic model through its JSON form (datetime `Z`,
 * timedelta ISO-8601), an untyped dict through plain `msgpack.packb`.
 * @internal
 */
export type MsgpackFlavor = "mashumaro" | "pydantic" | "plain";

/** @internal */
export interface MsgpackEncodeOptions {
  /** The struct's JSON schema; numbers it declares `number` are written as float64 even when whole. */
  readonly schema?: SchemaNode | undefined;
  readonly flavor: MsgpackFlavor;
}

/**
 * Encodes a struct value as flyte-sdk does, so that Python decodes it and a value read from msgpack re-encodes
 * to the same bytes. Without a schema a whole number is an int and any other number a float64; with one, the
 * schema decides and the value is checked against its types, required fields and enums. Throws
 * {@link LiteralError} with the path of the offending field.
 * @internal
 */
export function msgpackFromValue(value: unknown, options: MsgpackEncodeOptions): Uint8Array {
  const encoder = new Encoder(options.flavor);
  encoder.write(value, options.schema === undefined ? undefined : compileSchema(options.schema, options.schema), 0);
  return encoder.out.bytes();
}

const MAX_DEPTH = 512;
const UINT64_MAX = 2n ** 64n - 1n;
const INT64_MIN = -(2n ** 63n);

class Encoder {
  readonly out = MsgpackWriter.scratch();

  constructor(private readonly flavor: MsgpackFlavor) {}

  write(value: unknown, schema: CompiledSchema | undefined, depth: number): void {
    if (depth > MAX_DEPTH) throw new LiteralError(`nesting deeper than ${MAX_DEPTH}`);
    const node = schema === undefined ? undefined : pick(value, schema);
    const types = node?.types;
    const out = this.out;
    if (value === null || value === undefined) {
      expect(types, "null", value);
      return out.nil();
    }
    switch (typeof value) {
      case "number":
        return this.number(value, types);
      case "bigint":
        return this.bigint(value, types);
      case "string": {
        expect(types, "string", value);
        const allowed = node?.enumValues;
        if (allowed !== undefined && !allowed.includes(value)) {
          throw new LiteralError(`${JSON.stringify(value)} is not one of ${allowed.join(", ")}`);
        }
        return out.string(value);
      }
      case "boolean":
        expect(types, "boolean", value);
        return out.boolean(value);
      case "object":
        return this.object(value, node, types, depth);
      default:
        throw new LiteralError(`cannot encode ${describeValue(value)} in a struct`);
    }
  }

  private number(value: number, types: readonly string[] | undefined): void {
    const whole = Number.isInteger(value) && !Object.is(value, -0);
    if (types !== undefined) {
      const number = types.includes("number");
      const integer = types.includes("integer");
      if (!number && !integer) throw new LiteralError(`expected ${types.join("|")}, got ${describeValue(value)}`);
      if (!number) {
        if (!whole) throw new LiteralError(`expected an integer, got ${describeValue(value)}`);
        if (!Number.isSafeInteger(value)) throw new LiteralError(`${value} is beyond 2^53 and may have lost digits: pass a bigint`);
        return this.out.int(value);
      }
      // mashumaro and pydantic write a float field as float64 even when it is whole (`1.0` → cb3ff0…).
      if (!integer) return this.out.float64(value);
    }
    if (whole && Number.isSafeInteger(value)) this.out.int(value);
    else this.out.float64(value);
  }

  private bigint(value: bigint, types: readonly string[] | undefined): void {
    if (types !== undefined && !types.includes("integer")) {
      if (types.includes("number") && BigInt(Number(value)) === value) return this.out.float64(Number(value));
      throw new LiteralError(`expected ${types.join("|")}, got ${describeValue(value)}`);
    }
    // msgpack holds int64 and uint64; Python raises OverflowError beyond (docs/flyte-literals.md §5.1).
    if (value < INT64_MIN || value > UINT64_MAX) throw new LiteralError(`${value} is out of the msgpack integer range`);
    this.out.bigint(value);
  }

  private object(value: object, node: CompiledSchema | undefined, types: readonly string[] | undefined, depth: number): void {
    const out = this.out;
    if (Array.isArray(value)) {
      expect(types, "array", value);
      const prefix = node?.prefixItems;
      const items = node?.items;
      out.arrayHeader(value.length);
      let i = 0;
      try {
        for (; i < value.length; i++) this.write(value[i], prefix?.[i] ?? items, depth + 1);
      } catch (err) {
        throw literalErrorWithin(err, `[${i}]`);
      }
      return;
    }
    if (value instanceof Uint8Array) return out.binary(value);
    if (value instanceof Datetime || value instanceof Date) {
      expect(types, "string", value);
      const dt = value instanceof Date ? Datetime.fromDate(value) : value;
      return out.string(isoDatetime(dt, this.flavor));
    }
    if (value instanceof Timedelta) {
      if (this.flavor === "pydantic") {
        expect(types, "string", value);
        return out.string(isoDuration(value));
      }
      expect(types, "number", value);
      return out.float64(value.toSeconds());
    }
    if (value instanceof Map) {
      expect(types, "object", value);
      out.mapHeader(value.size);
      for (const [k, v] of value) {
        try {
          this.write(k, undefined, depth + 1);
          this.write(v, typeof k === "string" ? node?.property(k) : undefined, depth + 1);
        } catch (err) {
          throw literalErrorWithin(err, `[${typeof k === "string" ? JSON.stringify(k) : String(k)}]`);
        }
      }
      return;
    }
    if (isPlainRecord(value)) return this.record(value, node, types, depth);
    throw new LiteralError(`cannot encode ${describeValue(value)} in a struct`);
  }

  private record(value: Record<string, unknown>, node: CompiledSchema | undefined, types: readonly string[] | undefined, depth: number): void {
    expect(types, "object", value);
    if (node !== undefined) {
      for (const name of node.required) {
        if (value[name] === undefined) throw new LiteralError(`the required field ${JSON.stringify(name)} is missing`);
      }
    }
    const keys = Object.keys(value);
    let size = 0;
    for (const key of keys) if (value[key] !== undefined) size++;
    this.out.mapHeader(size);
    for (const key of keys) {
      const v = value[key];
      if (v === undefined) continue; // like JSON: an undefined field is left out and its default applies
      this.out.string(key);
      try {
        this.write(v, node?.property(key), depth + 1);
      } catch (err) {
        throw literalErrorWithin(err, /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
      }
    }
  }
}

/** For `anyOf`/`oneOf`, the first branch whose types accept the value; the node itself otherwise. */
function pick(value: unknown, node: CompiledSchema): CompiledSchema {
  const branches = node.branches;
  if (branches === undefined) return node;
  const type = jsonTypeOf(value);
  for (const branch of branches) {
    const types = branch.types;
    if (types === undefined || types.includes(type) || (type === "integer" && types.includes("number"))) return pick(value, branch);
  }
  const expected = branches.map((b) => b.types?.join("|") ?? "any").join(" or ");
  throw new LiteralError(`expected ${expected}, got ${describeValue(value)}`);
}

function jsonTypeOf(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "number":
      return Number.isInteger(value) ? "integer" : "number";
    case "bigint":
      return "integer";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    default:
      if (Array.isArray(value)) return "array";
      if (value instanceof Datetime || value instanceof Date) return "string";
      if (value instanceof Timedelta) return "number";
      return "object";
  }
}

function expect(types: readonly string[] | undefined, type: string, value: unknown): void {
  if (types !== undefined && !types.includes(type)) throw new LiteralError(`expected ${types.join("|")}, got ${describeValue(value)}`);
}

/** Python's `isoformat()` (mashumaro, `+00:00`) or pydantic's JSON (`Z`), with microseconds when there are any. */
function isoDatetime(dt: Datetime, flavor: MsgpackFlavor): string {
  const base = dt.toISOString().slice(0, 19);
  const micros = Math.floor(dt.nanos / 1000);
  const frac = micros === 0 ? "" : `.${String(micros).padStart(6, "0")}`;
  return `${base}${frac}${flavor === "pydantic" ? "Z" : "+00:00"}`;
}

/** ISO-8601 duration as pydantic writes a timedelta: `PT1M30.000005S`, `-P1DT2H`. */
function isoDuration(td: Timedelta): string {
  let total = td.totalNanoseconds;
  const sign = total < 0n ? "-" : "";
  if (total < 0n) total = -total;
  const days = total / 86_400_000_000_000n;
  let rest = total % 86_400_000_000_000n;
  const hours = rest / 3_600_000_000_000n;
  rest %= 3_600_000_000_000n;
  const minutes = rest / 60_000_000_000n;
  rest %= 60_000_000_000n;
  const seconds = rest / 1_000_000_000n;
  const micros = (rest % 1_000_000_000n) / 1000n;
  let time = "";
  if (hours > 0n) time += `${hours}H`;
  if (minutes > 0n) time += `${minutes}M`;
  if (seconds > 0n || micros > 0n || (time === "" && days === 0n)) {
    time += `${seconds}${micros > 0n ? `.${String(micros).padStart(6, "0")}` : ""}S`;
  }
  return `${sign}P${days > 0n ? `${days}D` : ""}${time === "" ? "" : `T${time}`}`;
}
