import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import { InvalidTaskError } from "../errors.js";

/** The task's `custom` Struct as JSON; `{}` when the plugin wrote none (flyte-sdk omits an empty one). */
export function customOf(template: TaskTemplate): JsonObject {
  return template.custom ?? {};
}

/** A string field of `custom`; `undefined` when absent, null or empty. Any other type is the task's error. */
export function customString(custom: JsonObject, key: string): string | undefined {
  const v = custom[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new InvalidTaskError(`custom["${key}"] must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** A required string field of `custom`, with the message the user needs to fix it. */
export function requiredCustomString(custom: JsonObject, key: string, hint: string): string {
  const v = customString(custom, key);
  if (v === undefined) throw new InvalidTaskError(`custom["${key}"] is missing: ${hint}`);
  return v;
}

/** An object field of `custom`; `undefined` when absent or null. */
export function customObject(custom: JsonObject, key: string): JsonObject | undefined {
  const v: JsonValue | undefined = custom[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw new InvalidTaskError(`custom["${key}"] must be an object, got ${JSON.stringify(v)}`);
  return v;
}

/** The SQL of a query task: flyte-sdk puts it in `template.sql.statement` and sends no container. */
export function sqlStatementOf(template: TaskTemplate): string {
  const statement = template.target.case === "sql" ? template.target.value.statement : "";
  if (statement.trim() === "") throw new InvalidTaskError("the task template has no SQL statement (template.sql.statement is empty)");
  return statement;
}
