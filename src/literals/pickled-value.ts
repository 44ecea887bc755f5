import type { Literal } from "#idl/flyteidl2/core/literals_pb.js";

const BRAND = Symbol.for("flyte-connect.PickledValue");

/**
 * A value flyte-sdk pickled (its fallback for types it has no transformer for: `set`, `bytes`, bare `list`,
 * `typing.Any`, classes; docs/flyte-literals.md §2.13). Python pickles cannot be read outside Python, so the connector gets
 * this opaque wrapper around the literal: it can pass it on unchanged (as an output of the same type), but it
 * cannot see inside. Declare a concrete type in the task signature to get a real value.
 */
export class PickledValue {
  /** The literal as it arrived: an untagged binary, a `PythonPickle` blob, or a `{pickle_file}` Struct. */
  readonly literal: Literal;
  /** The Python class, from the type's `python_class_name` metadata (e.g. `<class 'set'>`), when known. */
  readonly pythonClass: string | undefined;
  /** Why the value is opaque; shown by `toString`. */
  readonly message: string;

  constructor(literal: Literal, pythonClass?: string) {
    this.literal = literal;
    this.pythonClass = pythonClass;
    this.message =
      `a Python pickle${pythonClass === undefined ? "" : ` of ${pythonClass}`}: it cannot be unpickled outside Python; ` +
      "pass it through unchanged or give the task a concrete type";
    Object.freeze(this);
  }

  toString(): string {
    return `PickledValue(${this.message})`;
  }

  toJSON(): string {
    return this.toString();
  }

  // Two copies of flyte-connect in one process must recognise each other's values.
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
Object.defineProperty(PickledValue.prototype, BRAND, { value: true });
