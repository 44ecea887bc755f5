import type { Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { describeType, describeValue } from "./describe.js";
import { LiteralError, literalErrorWithin } from "./errors.js";
import { collectionLiteral, mapLiteral, stringLiteral, unionLiteral } from "./literal-messages.js";
import {
  literalFromBoolean,
  literalFromDatetime,
  literalFromFloat,
  literalFromInteger,
  literalFromNone,
  literalFromString,
  literalFromTimedelta,
} from "./primitive-values.js";
import { isPlainRecord, setEntry } from "./plain-record.js";
import { UnionVariant } from "./union-variant.js";
import { naturallyFits } from "./natural-fit.js";
import { isPickleUnion, variantTag } from "./union-type.js";
import { literalFromBlobRef } from "./blob-ref.js";
import { literalFromDatasetRef } from "./dataset-ref.js";
import { PICKLE_FORMAT } from "./flyte-names.js";
import { literalFromPickledValue } from "./pickle-literal.js";
import { literalFromStructValue } from "./struct-values.js";

/**
 * Converts a JS value into the Flyte literal of its declared type, in exactly the shape flyte-sdk writes
 * (docs/flyte-literals.md §2): unions are wrapped with the chosen variant and its tag, arrays become collections, records
 * become maps, … Throws {@link LiteralError} naming where and why the value does not fit; it never guesses a
 * type from the value.
 *
 * @example
 * literalFromValue(42, intType);          // {scalar: {primitive: {integer: 42n}}}
 * literalFromValue(null, optionalIntType); // {scalar: {union: {value: none, type: {simple: NONE, tag "none"}}}}
 */
export function literalFromValue(value: unknown, type: LiteralType): Literal {
  return write(value, type);
}

function write(value: unknown, type: LiteralType): Literal {
  const t = type.type;
  switch (t.case) {
    case "simple":
      return writeSimple(value, t.value, type);
    case "collectionType":
      return writeCollection(value, t.value, type);
    case "mapValueType":
      return writeMap(value, t.value, type);
    case "unionType":
      return writeUnion(value, t.value.variants, type);
    case "enumType":
      return writeEnum(value, t.value.values);
    case "blob":
      return t.value.format === PICKLE_FORMAT ? literalFromPickledValue(value, type) : literalFromBlobRef(value, t.value, type);
    case "structuredDatasetType":
      return literalFromDatasetRef(value, t.value, type);
    default:
      throw new LiteralError(`${describeType(type)} outputs are not supported`);
  }
}

function writeSimple(value: unknown, simple: SimpleType, type: LiteralType): Literal {
  switch (simple) {
    case SimpleType.INTEGER:
      return literalFromInteger(value);
    case SimpleType.FLOAT:
      return literalFromFloat(value);
    case SimpleType.STRING:
      return literalFromString(value);
    case SimpleType.BOOLEAN:
      return literalFromBoolean(value);
    case SimpleType.DATETIME:
      return literalFromDatetime(value);
    case SimpleType.DURATION:
      return literalFromTimedelta(value);
    case SimpleType.NONE:
      return literalFromNone(value);
    case SimpleType.STRUCT:
      return literalFromStructValue(value, type);
    case SimpleType.BINARY:
      return literalFromPickledValue(value, type);
    default:
      throw new LiteralError(`${describeType(type)} outputs are not supported`);
  }
}

function writeCollection(value: unknown, element: LiteralType, type: LiteralType): Literal {
  if (!Array.isArray(value)) throw new LiteralError(`expected an array for ${describeType(type)}, got ${describeValue(value)}`);
  const literals = new Array<Literal>(value.length);
  let i = 0;
  try {
    for (; i < value.length; i++) literals[i] = write(value[i], element);
  } catch (err) {
    throw literalErrorWithin(err, `[${i}]`);
  }
  return collectionLiteral(literals);
}

function writeMap(value: unknown, valueType: LiteralType, type: LiteralType): Literal {
  const literals: { [key: string]: Literal } = {};
  let key = "";
  try {
    if (value instanceof Map) {
      for (const [k, v] of value) {
        if (typeof k !== "string") throw new LiteralError(`map keys must be strings, got ${describeValue(k)}`);
        key = k;
        setEntry(literals, k, write(v, valueType));
      }
    } else if (isPlainRecord(value)) {
      for (key of Object.keys(value)) setEntry(literals, key, write(value[key], valueType));
    } else {
      throw new LiteralError(`expected an object or a Map for ${describeType(type)}, got ${describeValue(value)}`);
    }
  } catch (err) {
    if (key === "") throw err;
    throw literalErrorWithin(err, `[${JSON.stringify(key)}]`);
  }
  return mapLiteral(literals);
}

function writeEnum(value: unknown, values: readonly string[]): Literal {
  if (typeof value !== "string") throw new LiteralError(`expected one of the enum values ${values.join(", ")}, got ${describeValue(value)}`);
  if (!values.includes(value)) throw new LiteralError(`${JSON.stringify(value)} is not one of the enum values ${values.join(", ")}`);
  return stringLiteral(value);
}

/**
 * Chooses the variant as flyte-sdk does for a value whose Python type is one of the union's arguments, and
 * otherwise tries every variant (docs/flyte-literals.md §2.8). JS types stand in for Python's: bigint → INTEGER, number →
 * FLOAT, string → STRING or enum, array → list, … A value that fits several variants is an error, as in
 * Python; `unionVariant(tag, value)` picks one explicitly.
 */
function writeUnion(value: unknown, variants: readonly LiteralType[], type: LiteralType): Literal {
  // The pickle fallback is a union type whose literals are not union-wrapped (docs/flyte-literals.md §2.13).
  if (isPickleUnion(type)) return literalFromPickledValue(value, type);
  if (value instanceof UnionVariant) return writeChosenVariant(value, variants, type);
  const natural = variants.filter((v) => naturallyFits(value, v));
  const first = tryVariants(value, natural);
  if (first.fits.length === 1) return unionLiteral(first.fits[0]!.literal, first.fits[0]!.variant);
  if (first.fits.length > 1)
    throw ambiguous(
      value,
      first.fits.map((f) => f.variant),
      type,
    );
  const others = tryVariants(
    value,
    variants.filter((v) => !natural.includes(v)),
  );
  if (others.fits.length === 1) return unionLiteral(others.fits[0]!.literal, others.fits[0]!.variant);
  if (others.fits.length > 1)
    throw ambiguous(
      value,
      others.fits.map((f) => f.variant),
      type,
    );
  const reasons = [...first.errors, ...others.errors].join("; ");
  throw new LiteralError(`${describeValue(value)} fits no variant of ${describeType(type)} (${reasons})`);
}

function writeChosenVariant(choice: UnionVariant, variants: readonly LiteralType[], type: LiteralType): Literal {
  const matching = variants.filter((v) => variantTag(v) === choice.tag);
  if (matching.length === 0) {
    throw new LiteralError(`unionVariant: no variant of ${describeType(type)} is tagged ${JSON.stringify(choice.tag)}`);
  }
  const tried = tryVariants(choice.value, matching);
  if (tried.fits.length === 1) return unionLiteral(tried.fits[0]!.literal, tried.fits[0]!.variant);
  if (tried.fits.length > 1) throw ambiguous(choice.value, matching, type);
  throw new LiteralError(`${describeValue(choice.value)} does not fit the ${JSON.stringify(choice.tag)} variant (${tried.errors.join("; ")})`);
}

interface Fit {
  readonly variant: LiteralType;
  readonly literal: Literal;
}

function tryVariants(value: unknown, variants: readonly LiteralType[]): { fits: Fit[]; errors: string[] } {
  const fits: Fit[] = [];
  const errors: string[] = [];
  for (const variant of variants) {
    try {
      fits.push({ variant, literal: write(value, variant) });
    } catch (err) {
      if (!(err instanceof LiteralError)) throw err;
      errors.push(`${variantTag(variant) || describeType(variant)}: ${err.message}`);
    }
  }
  return { fits, errors };
}

function ambiguous(value: unknown, variants: readonly LiteralType[], type: LiteralType): LiteralError {
  const tags = variants.map((v) => JSON.stringify(variantTag(v) || describeType(v))).join(", ");
  return new LiteralError(
    `ambiguous choice of variant for ${describeType(type)}: ${describeValue(value)} fits ${tags}; choose one with unionVariant(tag, value)`,
  );
}
