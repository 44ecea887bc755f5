const BRAND = Symbol.for("flyte-connect.UnionVariant");

/**
 * A value for a union output with its variant chosen explicitly, for the rare values that fit several
 * variants (a string for `Union[str, Literal["a","b"]]`, `[]` for `Union[list[int], list[str]]`).
 * Create it with {@link unionVariant}.
 */
export class UnionVariant<T = unknown> {
  constructor(
    /** The variant's tag (`structure.tag`), e.g. `"str"`, `"Typed List"`, `"DefaultEnumTransformer"`. */
    readonly tag: string,
    readonly value: T,
  ) {}

  // Two copies of flyte-connect in one process must recognise each other's values.
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
Object.defineProperty(UnionVariant.prototype, BRAND, { value: true });

/**
 * Picks the union variant tagged `tag` for `value`, where several variants would accept it.
 *
 * @example
 * return { phase: "SUCCEEDED", outputs: { o0: unionVariant("DefaultEnumTransformer", "RED") } };
 */
export function unionVariant<T>(tag: string, value: T): UnionVariant<T> {
  return new UnionVariant(tag, value);
}
