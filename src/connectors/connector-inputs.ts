import type { TypedInterface } from "#idl/flyteidl2/core/interface_pb.js";
import { BlobType_BlobDimensionality, SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import type { Inputs } from "#idl/flyteidl2/task/common_pb.js";
import type { SliceOptions } from "../literals/conversion-steps.js";
import { valuesFromInputs, valuesFromInputsInSlices } from "../literals/convert.js";
import { declaredInputTypes } from "../literals/define-interface.js";
import { describeType } from "../literals/describe.js";
import { LiteralError } from "../literals/errors.js";
import { isUnfetchedOffloadedLiteral } from "../literals/offloaded-literal.js";
import { setEntry } from "../literals/plain-record.js";
import { admitsNone } from "../literals/union-type.js";
import type { AnyConnector } from "./connector.js";

/**
 * The input values `create` receives: CreateTask inputs converted by the template's interface, once that
 * interface has been checked against the inputs the connector declares (see {@link checkTaskInputs}). A
 * declared Optional input the task leaves out reads as null, as a missing Optional literal does.
 * Throws {@link LiteralError} naming the input; the service answers INVALID_ARGUMENT.
 */
export function connectorInputs(connector: AnyConnector, inputs: Inputs | undefined, iface: TypedInterface | undefined): Record<string, unknown> {
  checkTaskInputs(connector, iface);
  return withDeclaredNulls(connector, valuesFromInputs(inputs, iface));
}

/** Options of {@link connectorInputsInSlices}. */
export interface ConnectorInputsOptions extends SliceOptions {
  /**
   * Fetches the inputs' offloaded literals. Conversion does no I/O: when it meets an offloaded literal, this
   * is called and conversion starts over on what it returns. Without it, an offloaded literal is an error.
   */
  readonly fetchOffloaded?: (inputs: Inputs) => Promise<Inputs | undefined>;
}

/**
 * {@link connectorInputs} as the service's CreateTask runs it: a conversion that outlasts one slice (a
 * maximum-size request) continues in slices, giving the event loop back, and the result is then a promise;
 * small inputs are converted at once, without one (see {@link valuesFromInputsInSlices}). Offloaded literals
 * are fetched only when conversion meets one, so inputs without any (nearly all) are walked once.
 */
export function connectorInputsInSlices(
  connector: AnyConnector,
  inputs: Inputs | undefined,
  iface: TypedInterface | undefined,
  options: ConnectorInputsOptions = {},
): Record<string, unknown> | Promise<Record<string, unknown>> {
  checkTaskInputs(connector, iface);
  const convert = (given: Inputs | undefined) => {
    const values = valuesFromInputsInSlices(given, iface, options);
    return values instanceof Promise ? values.then((v) => withDeclaredNulls(connector, v)) : withDeclaredNulls(connector, values);
  };
  const { fetchOffloaded } = options;
  if (fetchOffloaded === undefined || inputs === undefined) return convert(inputs);
  const fetchAndConvert = async (err: unknown) => {
    if (!isUnfetchedOffloadedLiteral(err)) throw err;
    return convert(await fetchOffloaded(inputs));
  };
  try {
    const values = convert(inputs);
    return values instanceof Promise ? values.catch(fetchAndConvert) : values;
  } catch (err) {
    return fetchAndConvert(err);
  }
}

function withDeclaredNulls(connector: AnyConnector, values: Record<string, unknown>): Record<string, unknown> {
  for (const name of Object.keys(declaredInputTypes(connector) ?? {})) if (!Object.hasOwn(values, name)) setEntry(values, name, null);
  return values;
}

/**
 * Checks the task's declared inputs against the connector's, by name and Flyte type, so that a connector
 * never runs with an input its TypeScript type does not describe: the compiler checks only the connector's
 * side. An input the task leaves out (unless Optional), declares with another type, or declares besides the
 * connector's throws {@link LiteralError} naming it. Connectors that declare no inputs take any.
 */
export function checkTaskInputs(connector: AnyConnector, iface: TypedInterface | undefined): void {
  const declared = declaredInputTypes(connector);
  if (declared === undefined) return;
  const given = new Map((iface?.inputs?.variables ?? []).map((v) => [v.key, v.value?.type]));
  const takes = `connector ${connector.name}`;
  for (const name of Object.keys(declared)) {
    const type = declared[name]!;
    const where = `input '${name}'`;
    if (!given.has(name)) {
      if (admitsNone(type)) continue;
      throw new LiteralError(
        `${takes} takes it as ${typeName(type)}, but the task does not declare it: add \`${name}: ${pythonName(type)}\` to the task's inputs`,
      ).within(where);
    }
    const taskType = given.get(name);
    // An input without a type is reported by the conversion, with the same words for every connector.
    if (taskType !== undefined && !typeFits(taskType, type)) {
      throw new LiteralError(
        `the task declares it as ${typeName(taskType)}, but ${takes} takes it as ${typeName(type)}: declare it as \`${name}: ${pythonName(type)}\` in the task`,
      ).within(where);
    }
  }
  for (const name of given.keys()) {
    if (!Object.hasOwn(declared, name)) {
      const names = Object.keys(declared);
      throw new LiteralError(`the task declares it, but ${takes} takes no such input (it takes ${names.length ? names.join(", ") : "none"})`).within(
        `input '${name}'`,
      );
    }
  }
}

function typeName(type: LiteralType): string {
  const python = pythonName(type);
  const flyte = describeType(type);
  return python === flyte ? flyte : `${flyte} (Python ${python})`;
}

/** How a flyte-sdk user writes a type in a task signature, for the simple and nested cases; else the Flyte name. */
function pythonName(type: LiteralType): string {
  const t = type.type;
  switch (t.case) {
    case "simple":
      return PYTHON_SIMPLE[t.value] ?? describeType(type);
    case "collectionType":
      return `list[${pythonName(t.value)}]`;
    case "mapValueType":
      return `dict[str, ${pythonName(t.value)}]`;
    case "unionType": {
      const some = t.value.variants.filter((v) => !(v.type.case === "simple" && v.type.value === SimpleType.NONE));
      if (some.length === 1 && some.length < t.value.variants.length) return `Optional[${pythonName(some[0]!)}]`;
      return describeType(type);
    }
    case "blob":
      return t.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "Dir" : "File";
    case "structuredDatasetType":
      return "DataFrame";
    default:
      return describeType(type);
  }
}

const PYTHON_SIMPLE: Partial<Record<SimpleType, string>> = {
  [SimpleType.INTEGER]: "int",
  [SimpleType.FLOAT]: "float",
  [SimpleType.STRING]: "str",
  [SimpleType.BOOLEAN]: "bool",
  [SimpleType.DATETIME]: "datetime",
  [SimpleType.DURATION]: "timedelta",
  [SimpleType.NONE]: "None",
};

/**
 * Whether every value of the task's type is a value of the declared type: the same kind of type, element
 * types that fit, a union whose every variant fits, or one variant of a declared union. Metadata, tags and
 * formats are not compared: they describe the same values (a dataclass's schema, a file's format).
 */
function typeFits(task: LiteralType, declared: LiteralType): boolean {
  const a = task.type;
  const b = declared.type;
  if (a.case === "unionType") return a.value.variants.every((v) => typeFits(v, declared));
  if (b.case === "unionType") return b.value.variants.some((v) => typeFits(task, v));
  if (a.case !== b.case) return false;
  switch (a.case) {
    case "simple":
      return a.value === b.value;
    case "collectionType":
    case "mapValueType":
      return typeFits(a.value, b.value as LiteralType);
    case "enumType": {
      const allowed = new Set((b.value as typeof a.value).values);
      return a.value.values.every((v) => allowed.has(v));
    }
    case "blob":
      return a.value.dimensionality === (b.value as typeof a.value).dimensionality;
    default:
      return true;
  }
}
