import { create, fromJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { TaskTemplateSchema, type TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import { SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import type { InputTypes } from "../connectors/connector.js";
import { inputsFromValues, valuesFromInputs } from "../literals/convert.js";
import { Datetime } from "../literals/datetime.js";
import { Timedelta } from "../literals/timedelta.js";
import { literalTypeFromSpec, literalTypeOfJson, TypeSpecError } from "./flyte-type-from-spec.js";

/** A task described in JSON, as on the command line. */
export interface LocalTaskSpec {
  /** A whole TaskTemplate in proto-JSON (`flyte` can print one); the other fields override parts of it. */
  readonly template?: JsonObject;
  readonly taskType?: string;
  readonly taskVersion?: number;
  /** `TaskTemplate.custom`. */
  readonly custom?: JsonObject;
  /** Input values in JSON. */
  readonly inputs?: JsonObject;
  /** Input name → type (`"int"`, `"list[str]"`, or a proto-JSON LiteralType); others are inferred. */
  readonly inputTypes?: JsonObject;
  /** Output name → type, as for inputs. */
  readonly outputTypes?: JsonObject;
  /**
   * The input types the task's connector declares, if any (`AsyncConnector.inputTypes`): they type the
   * inputs the template and `inputTypes` leave untyped, so `{"n": "9007199254740993"}` is an exact int.
   */
  readonly connectorInputTypes?: (template: TaskTemplate) => InputTypes | undefined;
}

/** A template and the input values a connector receives for it. */
export interface LocalTask {
  readonly template: TaskTemplate;
  readonly inputs: Record<string, unknown>;
}

/**
 * Builds the task a local run sends to a connector. Inputs go through literals and back, with the task's
 * interface, so the connector receives exactly the values the service would give it (integers as bigint,
 * datetimes as Datetime). Throws {@link TypeSpecError} for a type it cannot read.
 */
export function localTaskFrom(spec: LocalTaskSpec): LocalTask {
  const template = spec.template ? fromJson(TaskTemplateSchema, spec.template, { ignoreUnknownFields: true }) : create(TaskTemplateSchema, {});
  if (spec.taskType !== undefined) template.type = spec.taskType;
  if (spec.taskVersion !== undefined) template.taskTypeVersion = spec.taskVersion;
  if (spec.custom !== undefined) template.custom = spec.custom;
  if (!template.type) throw new TypeSpecError("a task type is required (--task-type, or a --template with a type)");

  const declared = new Map((template.interface?.inputs?.variables ?? []).map((v) => [v.key, v.value?.type]));
  const inputs = spec.inputs ?? {};
  const inputTypes = new Map<string, LiteralType>();
  for (const [name, type] of Object.entries(spec.connectorInputTypes?.(template) ?? {})) inputTypes.set(name, type);
  for (const [name, type] of declared) if (type) inputTypes.set(name, type);
  for (const [name, typeSpec] of Object.entries(spec.inputTypes ?? {})) inputTypes.set(name, literalTypeFromSpec(typeSpec, `input type "${name}"`));
  for (const [name, value] of Object.entries(inputs)) {
    if (!inputTypes.has(name)) inputTypes.set(name, literalTypeOfJson(value, `input "${name}"`));
  }
  const outputs: [string, LiteralType][] = spec.outputTypes
    ? Object.entries(spec.outputTypes).map(([name, typeSpec]) => [name, literalTypeFromSpec(typeSpec, `output type "${name}"`)])
    : (template.interface?.outputs?.variables ?? []).flatMap((v) => (v.value?.type ? [[v.key, v.value.type] as [string, LiteralType]] : []));

  template.interface = create(TaskTemplateSchema, {
    interface: {
      // flyte-sdk sorts interface variables by name (docs/flyte-literals.md §1.2).
      inputs: { variables: [...inputTypes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, type]) => ({ key, value: { type } })) },
      outputs: { variables: outputs.sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, type]) => ({ key, value: { type } })) },
    },
  }).interface;

  const writable: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inputs)) writable[name] = writableFromJson(value, inputTypes.get(name)!, `input "${name}"`);
  const literals = inputsFromValues(writable, template.interface);
  return { template, inputs: valuesFromInputs(literals, template.interface) };
}

/**
 * JSON has no datetime, duration or int64: ISO text and seconds (or `"1.5s"`) stand for the first two, and
 * digits in a string for an integer beyond 2^53, which a JSON number cannot hold exactly.
 */
function writableFromJson(value: JsonValue, type: LiteralType, where: string): unknown {
  const t = type.type;
  if (value === null) return null;
  if (t.case === "simple" && t.value === SimpleType.INTEGER) {
    if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
    if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)) {
      throw new TypeSpecError(`${where}: ${value} is beyond 2^53, where JSON numbers lose digits; write it as a string of digits, such as "9007199254740993"`);
    }
  }
  if (t.case === "simple" && t.value === SimpleType.DATETIME && typeof value === "string") return Datetime.fromISOString(value);
  if (t.case === "simple" && t.value === SimpleType.DURATION) {
    if (typeof value === "number") return Timedelta.fromSeconds(value);
    if (typeof value === "string") return Timedelta.fromString(value);
  }
  if (t.case === "collectionType" && Array.isArray(value)) return value.map((v, i) => writableFromJson(v, t.value, `${where}[${i}]`));
  if (t.case === "mapValueType" && typeof value === "object" && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, writableFromJson(v, t.value, `${where}[${JSON.stringify(k)}]`)]));
  }
  if (t.case === "unionType") {
    const variant = t.value.variants.find((v) => !(v.type.case === "simple" && v.type.value === SimpleType.NONE));
    return variant ? writableFromJson(value, variant, where) : value;
  }
  return value;
}
