import type { Literal } from "#idl/flyteidl2/core/literals_pb.js";
import type { LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { describeLiteral, describeType, describeValue } from "./describe.js";
import { LiteralError } from "./errors.js";
import { PICKLE_FORMAT } from "./flyte-names.js";
import { PickledValue } from "./pickled-value.js";

/**
 * The pickle fallback (docs/flyte-literals.md §2.13): an untagged binary or a `PythonPickle` blob, never union-wrapped.
 * It is handed over as an opaque {@link PickledValue}, and only such a value can be written back.
 * @internal
 */
export function pickledValueFromLiteral(literal: Literal, type: LiteralType): PickledValue {
  const scalar = literal.value.case === "scalar" ? literal.value.value.value : undefined;
  const isPickle =
    (scalar?.case === "binary" && scalar.value.tag !== "msgpack") || (scalar?.case === "blob" && scalar.value.metadata?.type?.format === PICKLE_FORMAT);
  if (!isPickle) throw new LiteralError(`expected a pickle for ${describeType(type)}, got ${describeLiteral(literal)}`);
  const pythonClass = type.metadata?.["python_class_name"];
  return new PickledValue(literal, typeof pythonClass === "string" ? pythonClass : undefined);
}

/** @internal */
export function literalFromPickledValue(value: unknown, type: LiteralType): Literal {
  if (value instanceof PickledValue) return value.literal;
  throw new LiteralError(
    `${describeType(type)} is a Python pickle, which cannot be written outside Python; got ${describeValue(value)} ` +
      "(only a PickledValue received as an input can be passed through)",
  );
}
