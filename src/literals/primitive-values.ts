import type { Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { Datetime } from "./datetime.js";
import { describeLiteral, describeValue } from "./describe.js";
import { LiteralError } from "./errors.js";
import { isInt64 } from "./int64.js";
import { booleanLiteral, datetimeLiteral, durationLiteral, floatLiteral, integerLiteral, noneLiteral, stringLiteral } from "./literal-messages.js";
import { Timedelta } from "./timedelta.js";

/**
 * Reading and writing the scalar primitives: INTEGER, FLOAT, STRING, BOOLEAN, DATETIME, DURATION and NONE
 * (docs/flyte-literals.md §2.1–2.7). Readers take the literal's scalar and return undefined when the literal is not of a
 * kind the type accepts, so the caller can build one "expected X, got Y" message; writers throw.
 * @internal
 */

type PrimitiveCase = Extract<Literal["value"], { case: "scalar" }>["value"]["value"];

function primitiveOf(scalar: PrimitiveCase) {
  return scalar.case === "primitive" ? scalar.value.value : undefined;
}

/**
 * INTEGER → bigint. An integral float is accepted too: UIs and JS producers send whole numbers as doubles
 * (Python truncates any float with `int(f)`; we refuse fractions rather than lose them silently).
 */
export function integerFromScalar(scalar: PrimitiveCase): bigint | undefined {
  const p = primitiveOf(scalar);
  if (p?.case === "integer") return p.value;
  if (p?.case === "floatValue") {
    if (!Number.isInteger(p.value)) throw new LiteralError(`expected INTEGER, got the float ${p.value}, which is not a whole number`);
    const n = BigInt(p.value);
    if (!isInt64(n)) throw new LiteralError(`integer ${p.value} is out of the int64 range`);
    return n;
  }
  return undefined;
}

/** FLOAT → number. An integer literal is accepted, as flyte-sdk does (`test_check_and_convert_float`). */
export function floatFromScalar(scalar: PrimitiveCase): number | undefined {
  const p = primitiveOf(scalar);
  if (p?.case === "floatValue") return p.value;
  if (p?.case === "integer") return Number(p.value);
  return undefined;
}

export function stringFromScalar(scalar: PrimitiveCase): string | undefined {
  const p = primitiveOf(scalar);
  return p?.case === "stringValue" ? p.value : undefined;
}

/** Strict: flyte-sdk reads any literal without `boolean` as False; we require a boolean (type-engine.md). */
export function booleanFromScalar(scalar: PrimitiveCase): boolean | undefined {
  const p = primitiveOf(scalar);
  return p?.case === "boolean" ? p.value : undefined;
}

export function datetimeFromScalar(scalar: PrimitiveCase): Datetime | undefined {
  const p = primitiveOf(scalar);
  if (p?.case !== "datetime") return undefined;
  try {
    return Datetime.fromEpochSeconds(p.value.seconds, p.value.nanos);
  } catch (err) {
    throw new LiteralError(`invalid datetime: ${(err as Error).message}`, { cause: err });
  }
}

export function timedeltaFromScalar(scalar: PrimitiveCase): Timedelta | undefined {
  const p = primitiveOf(scalar);
  if (p?.case !== "duration") return undefined;
  try {
    return Timedelta.fromSeconds(p.value.seconds, p.value.nanos);
  } catch (err) {
    throw new LiteralError(`invalid duration: ${(err as Error).message}`, { cause: err });
  }
}

export function noneFromScalar(scalar: PrimitiveCase): null | undefined {
  return scalar.case === "noneType" ? null : undefined;
}

/** INTEGER ← bigint in the int64 range, or a safe-integer number. */
export function literalFromInteger(value: unknown): Literal {
  if (typeof value === "bigint") {
    if (!isInt64(value)) throw new LiteralError(`${value} is out of the int64 range`);
    return integerLiteral(value);
  }
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return integerLiteral(BigInt(value));
    if (Number.isInteger(value)) throw new LiteralError(`${value} is beyond 2^53 and may have lost digits: pass a bigint`);
    throw new LiteralError(`expected an integer (bigint or whole number), got ${describeValue(value)}`);
  }
  throw new LiteralError(`expected an integer (bigint or whole number), got ${describeValue(value)}`);
}

/** FLOAT ← number (NaN and ±Infinity included), or a bigint that a double holds exactly. */
export function literalFromFloat(value: unknown): Literal {
  if (typeof value === "number") return floatLiteral(value);
  if (typeof value === "bigint") {
    const n = Number(value);
    if (BigInt(n) !== value) throw new LiteralError(`${value} has no exact float representation`);
    return floatLiteral(n);
  }
  throw new LiteralError(`expected a number, got ${describeValue(value)}`);
}

export function literalFromString(value: unknown): Literal {
  if (typeof value === "string") return stringLiteral(value);
  throw new LiteralError(`expected a string, got ${describeValue(value)}`);
}

export function literalFromBoolean(value: unknown): Literal {
  if (typeof value === "boolean") return booleanLiteral(value);
  throw new LiteralError(`expected a boolean, got ${describeValue(value)}`);
}

/** DATETIME ← Datetime, Date or a `google.protobuf.Timestamp`. */
export function literalFromDatetime(value: unknown): Literal {
  let dt: Datetime;
  try {
    if (value instanceof Datetime) dt = value;
    else if (value instanceof Date) dt = Datetime.fromDate(value);
    else if (isMessage(value, "google.protobuf.Timestamp")) dt = Datetime.fromEpochSeconds(value.seconds, value.nanos);
    else throw new LiteralError(`expected a Datetime or Date, got ${describeValue(value)}`);
  } catch (err) {
    if (err instanceof LiteralError) throw err;
    throw new LiteralError(`invalid datetime: ${(err as Error).message}`, { cause: err });
  }
  return datetimeLiteral(dt.seconds, dt.nanos);
}

/** DURATION ← Timedelta or a `google.protobuf.Duration`. */
export function literalFromTimedelta(value: unknown): Literal {
  let td: Timedelta;
  try {
    if (value instanceof Timedelta) td = value;
    else if (isMessage(value, "google.protobuf.Duration")) td = Timedelta.fromSeconds(value.seconds, value.nanos);
    else throw new LiteralError(`expected a Timedelta, got ${describeValue(value)}`);
  } catch (err) {
    if (err instanceof LiteralError) throw err;
    throw new LiteralError(`invalid duration: ${(err as Error).message}`, { cause: err });
  }
  return durationLiteral(td.seconds, td.nanos);
}

/** NONE ← null or undefined. */
export function literalFromNone(value: unknown): Literal {
  if (value === null || value === undefined) return noneLiteral();
  throw new LiteralError(`expected null, got ${describeValue(value)}`);
}

function isMessage(value: unknown, typeName: string): value is { seconds: bigint; nanos: number } {
  return typeof value === "object" && value !== null && (value as { $typeName?: unknown }).$typeName === typeName;
}

/** "expected INTEGER, got a string literal" @internal */
export function mismatch(expected: string, literal: Literal | undefined): LiteralError {
  return new LiteralError(`expected ${expected}, got ${describeLiteral(literal)}`);
}
