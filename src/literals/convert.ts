import { fromBinary, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { base64Decode, base64Encode } from "@bufbuild/protobuf/wire";
import type { TypedInterface, VariableEntry } from "#idl/flyteidl2/core/interface_pb.js";
import { LiteralTypeSchema, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import type { Inputs, NamedLiteral, Outputs } from "#idl/flyteidl2/task/common_pb.js";
import type { OutputTypes } from "../connectors/connector.js";
import { describeValue } from "./describe.js";
import { LiteralError, literalErrorWithin } from "./errors.js";
import { literalFromValue } from "./literal-from-value.js";
import { admitsNone } from "./union-type.js";
import { setEntry } from "./plain-record.js";
import { convertsAtOnce, valueFromLiteral, valueFromLiteralInSteps } from "./value-from-literal.js";
import { finishConversion, finishConversionInSlices, newStepCounter, type Conversion, type SliceOptions } from "./conversion-steps.js";

/**
 * The service's side of the type engine: CreateTask inputs become values by the template's interface, and a
 * connector's output values become `Outputs` by their declared types.
 */

/**
 * Converts CreateTask inputs into values keyed by input name, each by the type `iface.inputs` declares for that
 * name. Literals arrive in any order (the executor iterates a Go map) and are matched by name, never position.
 * An input the interface does not declare, a duplicate, a literal that does not fit, and a missing input whose
 * type does not admit None all throw {@link LiteralError} naming the input; a missing Optional input reads as null.
 *
 * @example
 * const values = valuesFromInputs(request.inputs, request.template?.interface); // { n: 42n, name: "x" }
 */
export function valuesFromInputs(inputs: Inputs | undefined, iface: TypedInterface | undefined): Record<string, unknown> {
  return finishConversion(valuesFromNamedLiterals(inputs?.literals ?? [], typesOf(iface?.inputs?.variables, "input"), "input"));
}

/**
 * {@link valuesFromInputs} for the service's CreateTask: the same values and errors, but a conversion that
 * takes longer than one slice (a maximum-size request: a literal map of a million entries converts for
 * seconds) continues in slices that give the event loop back, and the result is then a promise. Small
 * inputs are converted at once and their values returned directly, as {@link valuesFromInputs} does.
 */
export function valuesFromInputsInSlices(
  inputs: Inputs | undefined,
  iface: TypedInterface | undefined,
  options?: SliceOptions,
): Record<string, unknown> | Promise<Record<string, unknown>> {
  return finishConversionInSlices(valuesFromNamedLiterals(inputs?.literals ?? [], typesOf(iface?.inputs?.variables, "input"), "input"), options);
}

/**
 * The reverse of {@link valuesFromInputs}: builds `Inputs` from values by the interface's input types, in the
 * interface's order, as a caller of the connector (the local runner, a test) sends them.
 */
export function inputsFromValues(values: Readonly<Record<string, unknown>>, iface: TypedInterface | undefined): Inputs {
  const literals = namedLiteralsFromValues(values, typesOf(iface?.inputs?.variables, "input"), "input");
  return { $typeName: "flyteidl2.task.Inputs", literals, context: [] };
}

/**
 * Converts a connector's output values into `Outputs`, each by its declared type and under its declared name,
 * in the order of `types` (the interface's order). A value that does not fit, an output the types do not declare,
 * and a missing output whose type does not admit None throw {@link LiteralError} naming the output; a missing
 * Optional output is written as None.
 *
 * @example
 * outputsFromValues({ o0: 42 }, outputTypesOf(template.interface));
 */
export function outputsFromValues(values: Readonly<Record<string, unknown>>, types: OutputTypes): Outputs {
  const literals = namedLiteralsFromValues(values, new Map(Object.entries(types)), "output");
  return { $typeName: "flyteidl2.task.Outputs", literals };
}

/**
 * The reverse of {@link outputsFromValues}: reads `Outputs` (or an `outputs.pb` a connector wrote) into values
 * by the declared output types, as the local runner shows a connector's results.
 */
export function valuesFromOutputs(outputs: Outputs | undefined, types: OutputTypes): Record<string, unknown> {
  return finishConversion(valuesFromNamedLiterals(outputs?.literals ?? [], new Map(Object.entries(types)), "output"));
}

type Kind = "input" | "output";

function typesOf(variables: readonly VariableEntry[] | undefined, kind: Kind): Map<string, LiteralType | undefined> {
  const types = new Map<string, LiteralType | undefined>();
  for (const v of variables ?? []) {
    if (types.has(v.key)) throw new LiteralError(`the task interface declares it twice`).within(`${kind} '${v.key}'`);
    types.set(v.key, v.value?.type);
  }
  return types;
}

function* valuesFromNamedLiterals(
  literals: readonly NamedLiteral[],
  types: ReadonlyMap<string, LiteralType | undefined>,
  kind: Kind,
): Conversion<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  const steps = newStepCounter();
  const seen = new Set<string>();
  for (const { name, value } of literals) {
    const where = `${kind} '${name}'`;
    if (!types.has(name)) throw new LiteralError(`not declared by the task interface (declared ${kind}s: ${list(types.keys())})`).within(where);
    if (seen.has(name)) throw new LiteralError("given more than once").within(where);
    seen.add(name);
    const type = types.get(name);
    if (type === undefined) throw new LiteralError("the task interface declares it without a type").within(where);
    if (value === undefined) throw new LiteralError("has no literal").within(where);
    try {
      setEntry(values, name, convertsAtOnce(type) ? valueFromLiteral(value, type) : yield* valueFromLiteralInSteps(value, type, steps));
    } catch (err) {
      throw literalErrorWithin(err, where);
    }
  }
  for (const [name, type] of types) {
    if (seen.has(name)) continue;
    // flyte-sdk fills defaults in, so an absent input is one the caller left out; only None can stand for it.
    if (!admitsNone(type)) throw new LiteralError("is missing").within(`${kind} '${name}'`);
    setEntry(values, name, null);
  }
  return values;
}

function namedLiteralsFromValues(values: Readonly<Record<string, unknown>>, types: ReadonlyMap<string, LiteralType | undefined>, kind: Kind): NamedLiteral[] {
  for (const name of Object.keys(values)) {
    if (!types.has(name)) {
      throw new LiteralError(`not declared by the task interface (declared ${kind}s: ${list(types.keys())})`).within(`${kind} '${name}'`);
    }
  }
  const literals: NamedLiteral[] = [];
  for (const [name, type] of types) {
    const where = `${kind} '${name}'`;
    if (type === undefined) throw new LiteralError("the task interface declares it without a type").within(where);
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined && !admitsNone(type)) throw new LiteralError("is missing").within(where);
    try {
      literals.push({ $typeName: "flyteidl2.task.NamedLiteral", name, value: literalFromValue(value, type) });
    } catch (err) {
      throw literalErrorWithin(err, where);
    }
  }
  return literals;
}

/** The declared output types of an interface, by output name, in the interface's order. */
export function outputTypesOf(iface: TypedInterface | undefined): OutputTypes {
  const types: Record<string, LiteralType> = {};
  for (const v of iface?.outputs?.variables ?? []) {
    if (v.value?.type === undefined) throw new LiteralError("the task interface declares it without a type").within(`output '${v.key}'`);
    setEntry(types, v.key, v.value.type);
  }
  return types;
}

/**
 * Output types as small JSON, to keep in a connector's resource metadata: GetTask carries no task template.
 * Each type is its binary `LiteralType` in base64 (`{"o0":"CAE="}` for one INTEGER output), about a third the
 * size of proto-JSON, because the executor stores and resends metadata on every poll.
 */
export function outputTypesToJson(types: OutputTypes): JsonObject {
  const json: JsonObject = {};
  for (const name of Object.keys(types)) setEntry(json, name, base64Encode(toBinary(LiteralTypeSchema, types[name]!)));
  return json;
}

/** Reads what {@link outputTypesToJson} wrote. Throws {@link LiteralError} for anything else. */
export function outputTypesFromJson(json: unknown): OutputTypes {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new LiteralError(`output types: expected an object of base64 LiteralTypes, got ${describeValue(json)}`);
  }
  const types: Record<string, LiteralType> = {};
  for (const [name, encoded] of Object.entries(json)) {
    if (typeof encoded !== "string") throw new LiteralError(`expected a base64 LiteralType, got ${describeValue(encoded)}`).within(`output type '${name}'`);
    try {
      setEntry(types, name, fromBinary(LiteralTypeSchema, base64Decode(encoded)));
    } catch (err) {
      throw new LiteralError(`not a base64 LiteralType: ${(err as Error).message}`, { cause: err }).within(`output type '${name}'`);
    }
  }
  return types;
}

function list(names: Iterable<string>): string {
  const all = [...names];
  return all.length === 0 ? "none" : all.join(", ");
}
