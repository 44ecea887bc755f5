import type { JsonObject } from "@bufbuild/protobuf";
import { submitRefusalOf, type SubmitRefusal } from "../warehouse/refused-submission.js";
import { jsonResourceMeta, requireString, ResourceMetaError, type MetaRecord } from "../resource-meta.js";

/**
 * What the executor keeps for a Snowflake statement: exactly the Python connector's `SnowflakeJobMetadata`
 * fields, in its order, so that either service can poll and cancel a statement the other started. The SQL
 * API's statement handle is the query ID the Python driver calls `sfqid`. `failure` exists only for a
 * statement Snowflake refused (then `query_id` is empty).
 */
export interface SnowflakeMeta extends SubmitRefusal {
  readonly account: string;
  readonly user: string;
  readonly database: string;
  readonly schema: string;
  readonly warehouse: string;
  readonly query_id: string;
  readonly has_output: boolean;
  readonly connection_kwargs: JsonObject | null;
}

function parseSnowflakeMeta(record: MetaRecord): SnowflakeMeta {
  const kwargs = record["connection_kwargs"];
  if (kwargs !== undefined && kwargs !== null && (typeof kwargs !== "object" || Array.isArray(kwargs)))
    throw new ResourceMetaError(`field "connection_kwargs" must be an object or null`);
  return {
    account: requireString(record, "account"),
    user: requireString(record, "user"),
    database: requireString(record, "database"),
    schema: requireString(record, "schema"),
    warehouse: requireString(record, "warehouse"),
    query_id: requireString(record, "query_id"),
    has_output: record["has_output"] === true,
    connection_kwargs: (kwargs ?? null) as JsonObject | null,
    ...submitRefusalOf(record),
  };
}

export const snowflakeMetaCodec = jsonResourceMeta<SnowflakeMeta>({ parse: parseSnowflakeMeta });
