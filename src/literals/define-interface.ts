import type { TypedInterface, VariableEntry } from "#idl/flyteidl2/core/interface_pb.js";
import type { LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import type { InputTypes, OutputTypes } from "../connectors/connector.js";
import type { AnyFlyteType, ValueOf, WritableValueOf } from "./flyte-type.js";
import { setEntry } from "./plain-record.js";
import type { Simplify } from "./t.js";

/** Named Flyte types: a task's inputs or outputs. */
export type FlyteFields = Readonly<Record<string, AnyFlyteType>>;

/** A task interface declared once in TypeScript; see {@link defineInterface}. */
export interface TaskInterface<I extends FlyteFields, O extends FlyteFields> {
  readonly inputs: I;
  readonly outputs: O;
  /** The proto interface, variables sorted by name as flyte-sdk sorts them (docs/flyte-literals.md §1.2). */
  readonly typedInterface: TypedInterface;
  /** The input types, for `AsyncConnector.inputTypes`: the framework checks every task against them. */
  readonly inputTypes: InputTypes;
  /** The output types, for `AsyncConnector.outputTypes` and `outputsFromValues`. */
  readonly outputTypes: OutputTypes;
}

/**
 * The inputs declared with the `outputTypes` of a {@link defineInterface} result, so that a connector that sets
 * only `outputTypes = iface.outputTypes` is still checked by its declared inputs.
 */
const inputsDeclaredWith = new WeakMap<OutputTypes, InputTypes>();

/**
 * The input types a connector declares: its `inputTypes`, or the inputs of the `defineInterface` its
 * `outputTypes` come from; `undefined` when it declares none (then any inputs the template declares pass).
 * @internal
 */
export function declaredInputTypes(connector: { readonly inputTypes?: InputTypes; readonly outputTypes?: OutputTypes }): InputTypes | undefined {
  return connector.inputTypes ?? (connector.outputTypes ? inputsDeclaredWith.get(connector.outputTypes) : undefined);
}

/** The input values a connector receives for an interface: `CreateRequest<InputsOf<typeof iface>>`. */
export type InputsOf<T> = T extends TaskInterface<infer I, FlyteFields> ? Simplify<{ -readonly [K in keyof I]: ValueOf<I[K]> }> : never;

/** The output values a connector may return for an interface; Optional outputs may be left out. */
export type OutputsOf<T> =
  T extends TaskInterface<FlyteFields, infer O>
    ? Simplify<
        { [K in keyof O as undefined extends WritableValueOf<O[K]> ? never : K]: WritableValueOf<O[K]> } & {
          [K in keyof O as undefined extends WritableValueOf<O[K]> ? K : never]?: WritableValueOf<O[K]>;
        }
      >
    : never;

/**
 * Declares a task's interface once, with types the compiler checks: pass `InputsOf<typeof iface>` and
 * `OutputsOf<typeof iface>` to `AsyncConnector`, and `iface.outputTypes` as the connector's `outputTypes`.
 *
 * @example
 * const iface = defineInterface({ inputs: { n: t.int() }, outputs: { o0: t.list(t.float()) } });
 * class MyConnector extends AsyncConnector<Meta, InputsOf<typeof iface>, OutputsOf<typeof iface>> {
 *   override readonly outputTypes = iface.outputTypes;
 *   async create(req) { const n: bigint = req.inputs.n; … }
 *   async get(meta) { return { phase: "SUCCEEDED", outputs: { o0: [1.5, 2] } }; }
 * }
 */
export function defineInterface<I extends FlyteFields = {}, O extends FlyteFields = {}>(spec: {
  readonly inputs?: I;
  readonly outputs?: O;
}): TaskInterface<I, O> {
  const inputs = spec.inputs ?? ({} as I);
  const outputs = spec.outputs ?? ({} as O);
  const inputTypes = typesByName(inputs);
  const outputTypes = typesByName(outputs);
  // Only an interface that says what its inputs are checks them: `defineInterface({ outputs })` takes any.
  if (spec.inputs !== undefined) inputsDeclaredWith.set(outputTypes, inputTypes);
  const typedInterface: TypedInterface = {
    $typeName: "flyteidl2.core.TypedInterface",
    inputs: variableMap(inputs),
    outputs: variableMap(outputs),
  };
  return Object.freeze({ inputs, outputs, typedInterface, inputTypes, outputTypes });
}

function typesByName(fields: FlyteFields): Readonly<Record<string, LiteralType>> {
  const types: Record<string, LiteralType> = {};
  for (const name of Object.keys(fields).sort()) setEntry(types, name, fields[name]!.literalType);
  return Object.freeze(types);
}

function variableMap(fields: FlyteFields): NonNullable<TypedInterface["inputs"]> {
  const variables: VariableEntry[] = Object.keys(fields)
    .sort()
    .map((key) => ({
      $typeName: "flyteidl2.core.VariableEntry",
      key,
      value: { $typeName: "flyteidl2.core.Variable", type: fields[key]!.literalType, description: "" },
    }));
  return { $typeName: "flyteidl2.core.VariableMap", variables };
}
