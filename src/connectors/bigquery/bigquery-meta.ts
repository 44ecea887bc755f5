import { submitRefusalOf, type SubmitRefusal } from "../warehouse/refused-submission.js";
import { jsonResourceMeta, requireString, ResourceMetaError, type MetaRecord } from "../resource-meta.js";

/**
 * What the executor keeps for a BigQuery job: exactly the Python connector's `BigQueryMetadata` fields, in its
 * order, so that either service can poll and cancel a job the other started (docs/connectors/bigquery.md).
 * No credential: those come with each call. `failure` exists only for a job BigQuery refused to insert.
 */
export interface BigQueryMeta extends SubmitRefusal {
  readonly job_id: string;
  readonly project: string;
  /** `null` when the task gave no location, as Python writes it. */
  readonly location: string | null;
  readonly user_agent: string;
}

function parseBigQueryMeta(record: MetaRecord): BigQueryMeta {
  const location = record["location"];
  if (location !== undefined && location !== null && typeof location !== "string") throw new ResourceMetaError(`field "location" must be a string or null`);
  const userAgent = record["user_agent"];
  return {
    job_id: requireString(record, "job_id"),
    project: requireString(record, "project"),
    location: location ?? null,
    user_agent: typeof userAgent === "string" ? userAgent : "",
    ...submitRefusalOf(record),
  };
}

export const bigQueryMetaCodec = jsonResourceMeta<BigQueryMeta>({ parse: parseBigQueryMeta });
