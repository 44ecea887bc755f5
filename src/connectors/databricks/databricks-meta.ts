import { submitRefusalOf, type SubmitRefusal } from "../warehouse/refused-submission.js";
import { jsonResourceMeta, requireString, ResourceMetaError, type MetaRecord } from "../resource-meta.js";

/**
 * What the executor keeps for a Databricks run: exactly the Python connector's `DatabricksJobMetadata`
 * (`databricks_instance`, `run_id` as a string), so that either service can poll and cancel a run the other
 * submitted. No token: it comes with each call. `failure` exists only for a run Databricks refused (then
 * `run_id` is empty).
 */
export interface DatabricksMeta extends SubmitRefusal {
  /** The workspace host, `myorg.cloud.databricks.com`, without a scheme. */
  readonly databricks_instance: string;
  readonly run_id: string;
}

function parseDatabricksMeta(record: MetaRecord): DatabricksMeta {
  const runId = record["run_id"];
  // Python writes a string; accept a number too, as any reader of Databricks' own answers would.
  const run_id = typeof runId === "number" || typeof runId === "bigint" ? String(runId) : requireString(record, "run_id");
  const refusal = submitRefusalOf(record);
  if (refusal.failure === undefined && !/^\d+$/.test(run_id)) throw new ResourceMetaError(`field "run_id" is not a Databricks run id`);
  return { databricks_instance: requireString(record, "databricks_instance"), run_id, ...refusal };
}

export const databricksMetaCodec = jsonResourceMeta<DatabricksMeta>({ parse: parseDatabricksMeta });
