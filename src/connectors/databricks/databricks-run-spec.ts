import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import { InvalidTaskError } from "../errors.js";
import { customObject } from "../warehouse/task-custom.js";

/**
 * The flytetools entrypoint the Python connector runs, at the commit it pins: it accepts the executor's
 * `a0 …` arguments and starts `flyte._bin.runtime`, which reads `inputs.pb` and writes `outputs.pb` itself.
 */
const ENTRYPOINT = Object.freeze({
  python_file: "flyteplugins/databricks/entrypoint.py",
  git_url: "https://github.com/flyteorg/flytetools",
  git_provider: "gitHub",
  git_commit: "194364210c47c49ce66c419e8fb68d6f9c06fd7e",
});

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const isEmpty = (v: JsonValue | undefined) => v === undefined || v === null || v === "" || (isObject(v) && Object.keys(v).length === 0);

/**
 * The `runs/submit` body the Python connector builds from a Databricks task: `custom.databricksConf` (the
 * Jobs API's own form), its `new_cluster` given the task's image, Spark configuration and environment
 * unless it has its own, and a `spark_python_task` that runs the entrypoint with the container's
 * arguments as the executor rendered them. `idempotency_token` (from the idempotency key, unless the task
 * sets one) makes a repeated submit start one run.
 */
export function databricksRunSpecFrom(template: TaskTemplate, custom: JsonObject, idempotencyKey: string): JsonObject {
  const conf = customObject(custom, "databricksConf");
  if (!conf) throw new InvalidTaskError("Missing Databricks job configuration in task template (custom.databricksConf).");
  if (template.target.case !== "container") throw new InvalidTaskError("a Databricks task needs a container: its image and arguments run on the cluster");
  const container = template.target.value;
  // A deep copy: the template is the caller's.
  const job = structuredClone(conf) as Record<string, JsonValue>;
  if (job["existing_cluster_id"] === undefined || job["existing_cluster_id"] === null) {
    const cluster = job["new_cluster"];
    if (!isObject(cluster)) throw new InvalidTaskError("Either existing_cluster_id or new_cluster must be specified");
    const envs = Object.fromEntries(container.env.map((e) => [e.key, e.value]));
    if (isEmpty(cluster["docker_image"])) cluster["docker_image"] = { url: container.image };
    if (isEmpty(cluster["spark_conf"])) cluster["spark_conf"] = isObject(custom["sparkConf"]) ? custom["sparkConf"] : {};
    cluster["spark_env_vars"] = { ...(isObject(cluster["spark_env_vars"]) ? cluster["spark_env_vars"] : {}), ...envs };
  }
  job["spark_python_task"] = { python_file: ENTRYPOINT.python_file, parameters: [...container.args], source: "GIT" };
  job["git_source"] = { git_url: ENTRYPOINT.git_url, git_provider: ENTRYPOINT.git_provider, git_commit: ENTRYPOINT.git_commit };
  job["idempotency_token"] ??= idempotencyKey.slice(0, 64);
  return job;
}
