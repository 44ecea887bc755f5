import { equals } from "@bufbuild/protobuf";
import { LiteralTypeSchema, SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { TAG } from "./flyte-names.js";

/**
 * Facts about union types that reading and writing both need (docs/flyte-literals.md §2.8, §2.13).
 * @internal
 */

/** The tag a union variant carries: the Python transformer's name. */
export function variantTag(variant: LiteralType): string {
  return variant.structure?.tag ?? "";
}

/** Whether a union admits None (`Optional[...]`). */
export function admitsNone(type: LiteralType | undefined): boolean {
  if (type === undefined) return false;
  if (type.type.case === "simple") return type.type.value === SimpleType.NONE;
  if (type.type.case === "unionType") return type.type.value.variants.some(admitsNone);
  return false;
}

/**
 * flyte-sdk's pickle fallback type: a union whose variants are all tagged `FlytePickle` (blob PythonPickle and
 * BINARY). Its literals are not union-wrapped (docs/flyte-literals.md §2.13).
 */
export function isPickleUnion(type: LiteralType): boolean {
  if (type.type.case !== "unionType") return false;
  const variants = type.type.value.variants;
  return variants.length > 0 && variants.every((v) => variantTag(v) === TAG.pickle);
}

/** Equal types ignoring `structure`, for union literals that arrive without a tag. */
export function sameTypeIgnoringTag(a: LiteralType, b: LiteralType | undefined): boolean {
  if (b === undefined) return false;
  const strip = (t: LiteralType): LiteralType => ({ ...t, structure: undefined });
  return equals(LiteralTypeSchema, strip(a), strip(b));
}
