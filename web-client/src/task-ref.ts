/**
 * A task category as the service routes it: the task type name and its version, such as
 * `{ name: "sleep", version: 0 }`. The version defaults to 0, as Flyte's task_type_version does.
 */
export interface TaskCategoryRef {
  readonly name: string;
  readonly version?: number;
}

/** The task category in the shape the generated request messages take. @internal */
export function taskCategoryInit(category: TaskCategoryRef): { name: string; version: number } {
  if (typeof category?.name !== "string" || category.name === "") throw new TypeError("task category name is required");
  const version = category.version ?? 0;
  if (!Number.isInteger(version) || version < 0) throw new TypeError(`task category version must be a non-negative integer, got ${version}`);
  return { name: category.name, version };
}
