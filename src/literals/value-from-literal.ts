import { mapFieldEntries, type MapEntries, type PrimitiveOneof } from "./deferred-map-field.js";
import type { Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { describeLiteral, describeType, describeValue } from "./describe.js";
import { LiteralError, literalErrorWithin } from "./errors.js";
import {
  booleanFromScalar,
  datetimeFromScalar,
  floatFromScalar,
  integerFromScalar,
  mismatch,
  noneFromScalar,
  stringFromScalar,
  timedeltaFromScalar,
} from "./primitive-values.js";
import { blobRefFromLiteral } from "./blob-ref.js";
import { datasetRefFromLiteral } from "./dataset-ref.js";
import { MSGPACK_TAG, PICKLE_FORMAT } from "./flyte-names.js";
import { isInt64 } from "./int64.js";
import { setEntry } from "./plain-record.js";
import { valueFromMsgpack } from "./msgpack/value-from-msgpack.js";
import { isUnfetchedOffloadedLiteral, unfetchedOffloadedLiteral } from "./offloaded-literal.js";
import { pickledValueFromLiteral } from "./pickle-literal.js";
import { valueFromStructLiteral } from "./struct-values.js";
import { finishConversion, newStepCounter, pauseDue, type Conversion, type StepCounter } from "./conversion-steps.js";
import { isPickleUnion, sameTypeIgnoringTag, variantTag } from "./union-type.js";

/**
 * Converts a Flyte literal into the plain JS value its declared type stands for (see docs/type-engine.md for
 * the table): INTEGER → bigint, FLOAT → number, DATETIME → Datetime, list → array, map → object, …
 * The declared type drives the conversion, as the task template's interface declares it; the literal must fit
 * it. Throws {@link LiteralError} naming where and why it does not.
 *
 * @example
 * valueFromLiteral(literal, create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.INTEGER } })); // 42n
 */
export function valueFromLiteral(literal: Literal, type: LiteralType): unknown {
  return convertsAtOnce(type) ? readLeaf(literal, type) : finishConversion(read(literal, type, newStepCounter()));
}

/**
 * Whether a literal of `type` is converted by a plain call, never pausing: anything but a collection, map or
 * union. Most task inputs are; {@link valueFromLiteral} converts them without a generator.
 */
export function convertsAtOnce(type: LiteralType): boolean {
  const c = type.type.case;
  return c !== "collectionType" && c !== "mapValueType" && c !== "unionType";
}

/**
 * {@link valueFromLiteral} as a {@link Conversion}: the same walk, pausing every few thousand literals of
 * collections and maps so that a driver can give the event loop back (see conversion-steps.ts).
 * `steps` counts for the whole walk when several literals are converted in one (all of a call's inputs).
 */
export function valueFromLiteralInSteps(literal: Literal, type: LiteralType, steps: StepCounter = newStepCounter()): Conversion<unknown> {
  return read(literal, type, steps);
}

/**
 * Collections, maps and unions are walked as generators, so that the walk can pause inside them; every other
 * type is read by a plain function ({@link readLeaf}): most literals are such leaves, and a generator for
 * each would slow the synchronous conversion down.
 */
function* read(literal: Literal, type: LiteralType, steps: StepCounter): Conversion<unknown> {
  const t = type.type;
  switch (t.case) {
    case "collectionType":
      return yield* readCollection(unwrapped(literal, type), t.value, type, steps);
    case "mapValueType":
      return yield* readMap(unwrapped(literal, type), t.value, type, steps);
    case "unionType":
      return yield* readUnion(unwrapped(literal, type), t.value.variants, type, steps);
    default:
      return readLeaf(literal, type);
  }
}

/** The literal to read for `type`: never an offloaded one, and a union-wrapped literal for a plain type is its value. */
function unwrapped(literal: Literal, type: LiteralType): Literal {
  // Conversion does no I/O: the caller fetches offloaded literals (fetchOffloadedLiterals) first, or when this error says so.
  if (literal.value.case === "offloadedMetadata") throw unfetchedOffloadedLiteral(literal);
  if (type.type.case === "unionType") return literal;
  // A union-wrapped literal for a plain type (a Python `Optional[T]` output read as T) is read as its value.
  const scalar = scalarOf(literal);
  if (scalar?.case === "union" && scalar.value.value !== undefined) return unwrapped(scalar.value.value, type);
  return literal;
}

function readLeaf(given: Literal, type: LiteralType): unknown {
  const literal = unwrapped(given, type);
  const t = type.type;
  switch (t.case) {
    case "simple":
      return readSimple(literal, t.value, type);
    case "enumType":
      return readEnum(literal, t.value.values, type);
    case "blob":
      return t.value.format === PICKLE_FORMAT ? pickledValueFromLiteral(literal, type) : blobRefFromLiteral(literal, t.value, type);
    case "structuredDatasetType":
      return datasetRefFromLiteral(literal, t.value, type);
    default:
      throw new LiteralError(`${describeType(type)} inputs are not supported`);
  }
}

function scalarOf(literal: Literal) {
  return literal.value.case === "scalar" ? literal.value.value.value : undefined;
}

function readSimple(literal: Literal, simple: SimpleType, type: LiteralType): unknown {
  if (simple === SimpleType.STRUCT) return valueFromStructLiteral(literal, type);
  if (simple === SimpleType.BINARY) return pickledValueFromLiteral(literal, type);
  const scalar = scalarOf(literal);
  if (scalar?.case === "binary" && scalar.value.tag === MSGPACK_TAG) return primitiveFromMsgpack(scalar.value.value, simple, type);
  if (scalar !== undefined) {
    const value = simpleFromScalar(scalar, simple, type);
    if (value !== undefined) return value;
  }
  throw mismatch(describeType(type), literal);
}

type ScalarValue = Extract<Literal["value"], { case: "scalar" }>["value"]["value"];

/** A scalar read as a simple type other than STRUCT and BINARY; undefined when it is not of a kind the type takes. */
function simpleFromScalar(scalar: ScalarValue, simple: SimpleType, type: LiteralType): unknown {
  switch (simple) {
    case SimpleType.INTEGER:
      return integerFromScalar(scalar);
    case SimpleType.FLOAT:
      return floatFromScalar(scalar);
    case SimpleType.STRING:
      return stringFromScalar(scalar);
    case SimpleType.BOOLEAN:
      return booleanFromScalar(scalar);
    case SimpleType.DATETIME:
      return datetimeFromScalar(scalar);
    case SimpleType.DURATION:
      return timedeltaFromScalar(scalar);
    case SimpleType.NONE:
      return noneFromScalar(scalar);
    default:
      throw new LiteralError(`${describeType(type)} inputs are not supported`);
  }
}

/** Simple types whose values keep nothing of their literal: read from a map's primitives without building them. */
const PRIMITIVE_TYPES: ReadonlySet<SimpleType> = new Set([SimpleType.INTEGER, SimpleType.FLOAT, SimpleType.STRING, SimpleType.BOOLEAN]);

/**
 * One scalar, reused by every entry of a map of primitives that {@link MapEntries.readPrimitive} fills in:
 * the readers above take a scalar and return a bigint, number, string or boolean, keeping no part of it.
 */
function primitiveScratch(): { scalar: ScalarValue; oneof: PrimitiveOneof } {
  const oneof: PrimitiveOneof = { case: undefined, value: undefined };
  const scalar = { case: "primitive", value: { $typeName: "flyteidl2.core.Primitive", value: oneof } } as unknown as ScalarValue;
  return { scalar, oneof };
}

/**
 * flyte-sdk's simple transformers also read a msgpack binary holding the value (docs/flyte-literals.md §2.1): what a
 * dataclass attribute access or a Python producer with `binary` IDL sends for an int, float, str or bool.
 */
function primitiveFromMsgpack(bytes: Uint8Array, simple: SimpleType, type: LiteralType): unknown {
  let value: unknown;
  try {
    value = valueFromMsgpack(bytes);
  } catch (err) {
    throw new LiteralError(`corrupt msgpack for ${describeType(type)}: ${(err as Error).message}`, { cause: err });
  }
  switch (simple) {
    case SimpleType.INTEGER:
      if (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value))) {
        const n = BigInt(value);
        if (!isInt64(n)) throw new LiteralError(`integer ${n} is out of the int64 range`);
        return n;
      }
      break;
    case SimpleType.FLOAT:
      if (typeof value === "number") return value;
      break;
    case SimpleType.STRING:
      if (typeof value === "string") return value;
      break;
    case SimpleType.BOOLEAN:
      if (typeof value === "boolean") return value;
      break;
  }
  throw new LiteralError(`expected ${describeType(type)}, got a msgpack binary holding ${describeValue(value)}`);
}

function* readCollection(literal: Literal, element: LiteralType, type: LiteralType, steps: StepCounter): Conversion<unknown[]> {
  if (literal.value.case !== "collection") throw mismatch(describeType(type), literal);
  const literals = literal.value.value.literals;
  const out = new Array<unknown>(literals.length);
  const leaf = convertsAtOnce(element);
  let i = 0;
  try {
    for (; i < literals.length; i++) {
      out[i] = leaf ? readLeaf(literals[i]!, element) : yield* read(literals[i]!, element, steps);
      if (pauseDue(steps)) yield;
    }
  } catch (err) {
    throw literalErrorWithin(err, `[${i}]`);
  }
  return out;
}

function* readMap(literal: Literal, valueType: LiteralType, type: LiteralType, steps: StepCounter): Conversion<Record<string, unknown>> {
  if (literal.value.case !== "map") throw mismatch(describeType(type), literal);
  const out: Record<string, unknown> = {};
  // Own keys only (a "__proto__" entry must not make the map's prototype enumerable), and without building
  // the map's object when the sliced decoder deferred it.
  const entries = mapFieldEntries<Literal>(literal.value.value, "literals");
  const leaf = convertsAtOnce(valueType);
  const simple = valueType.type.case === "simple" && PRIMITIVE_TYPES.has(valueType.type.value) ? valueType.type.value : undefined;
  const primitive = simple !== undefined && entries.readPrimitive !== undefined ? primitiveScratch() : undefined;
  let key = "";
  try {
    for (let i = 0; i < entries.size; i++) {
      key = entries.keyAt(i);
      // A primitive that the type does not take (a string for an int) goes the long way, for its error.
      const fast = primitive !== undefined && entries.readPrimitive!(i, primitive.oneof) ? simpleFromScalar(primitive.scalar, simple!, valueType) : undefined;
      if (fast !== undefined) {
        setEntry(out, key, fast);
      } else {
        const value = entries.valueAt(i);
        setEntry(out, key, leaf ? readLeaf(value, valueType) : yield* read(value, valueType, steps));
      }
      if (pauseDue(steps)) yield;
    }
  } catch (err) {
    throw literalErrorWithin(err, `[${JSON.stringify(key)}]`);
  }
  return out;
}

function readEnum(literal: Literal, values: readonly string[], type: LiteralType): string {
  const scalar = scalarOf(literal);
  const s = scalar === undefined ? undefined : stringFromScalar(scalar);
  if (s === undefined) throw mismatch(describeType(type), literal);
  if (!values.includes(s)) throw new LiteralError(`${JSON.stringify(s)} is not one of the enum values ${values.join(", ")}`);
  return s;
}

/**
 * Dispatch as flyte-sdk's UnionTransformer does (docs/flyte-literals.md §2.8): a union literal goes to the variants whose
 * tag equals `union.type.structure.tag`; a raw literal (e.g. a plain integer for `Optional[int]`) is tried
 * against every variant and must fit exactly one.
 */
function* readUnion(literal: Literal, variants: readonly LiteralType[], type: LiteralType, steps: StepCounter): Conversion<unknown> {
  if (isPickleUnion(type)) return pickledValueFromLiteral(literal, type);
  const scalar = scalarOf(literal);
  if (scalar?.case === "union") {
    const inner = scalar.value.value;
    if (inner === undefined) throw new LiteralError("union literal without a value");
    const tag = scalar.value.type?.structure?.tag ?? "";
    // Without a tag flyte-sdk fails; we accept a variant of exactly the literal's union type instead.
    const candidates = tag !== "" ? variants.filter((v) => variantTag(v) === tag) : variants.filter((v) => sameTypeIgnoringTag(v, scalar.value.type));
    if (candidates.length === 0) {
      const known = variants.map(variantTag).join(", ");
      throw new LiteralError(
        tag !== ""
          ? `unknown union tag ${JSON.stringify(tag)} (the variants are tagged ${known})`
          : `union literal of type ${describeType(scalar.value.type)} without a tag matches no variant of ${describeType(type)}`,
      );
    }
    if (candidates.length === 1) return yield* read(inner, candidates[0]!, steps);
    return yield* readOneOf(inner, candidates, type, steps);
  }
  return yield* readOneOf(literal, variants, type, steps);
}

function* readOneOf(literal: Literal, variants: readonly LiteralType[], type: LiteralType, steps: StepCounter): Conversion<unknown> {
  const fits: unknown[] = [];
  const errors: string[] = [];
  for (const variant of variants) {
    try {
      fits.push(yield* read(literal, variant, steps));
    } catch (err) {
      // An unfetched offloaded literal is not a variant that does not fit: the caller fetches it and starts over.
      if (!(err instanceof LiteralError) || isUnfetchedOffloadedLiteral(err)) throw err;
      errors.push(`${variantTag(variant) || describeType(variant)}: ${err.message}`);
    }
  }
  if (fits.length === 1) return fits[0];
  if (fits.length === 0) {
    throw new LiteralError(`${describeLiteral(literal)} fits no variant of ${describeType(type)} (${errors.join("; ")})`);
  }
  throw new LiteralError(`ambiguous choice of variant: ${describeLiteral(literal)} fits several variants of ${describeType(type)}`);
}
