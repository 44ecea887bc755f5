import type { JsonObject } from "@bufbuild/protobuf";
import { jsonResourceMeta, optionalField, requireNumber, requireString, ResourceMetaError, type MetaRecord } from "../resource-meta.js";
import { isPostgresJobId } from "./postgres-job-id.js";
import { MAX_INLINE_ROWS_LIMIT } from "./postgres-task-config.js";
import { POSTGRES_OUTPUT_KINDS, type PostgresOutputKind } from "./postgres-output-kind.js";

/**
 * What the executor keeps for a PostgreSQL query job and sends back on every GetTask and DeleteTask. It
 * names the job and how to read its result, and holds nothing secret: it is stored in the TaskAction's
 * status (docs/flyte-executor.md §5). Host, user and password come with each call's connection instead.
 */
export interface PostgresMeta {
  /** Derived from the idempotency key; names the job's record, its result table and its advisory lock. */
  readonly job_id: string;
  /** The schema holding the job table `flyte_connect_jobs` and the result table. */
  readonly schema: string;
  /** What each output takes from the result. */
  readonly output_kinds: Readonly<Record<string, PostgresOutputKind>>;
  /** The declared output types, as `outputTypesToJson` writes them. */
  readonly output_types: JsonObject;
  /** Results with more rows fail outputs that need the rows inline. */
  readonly max_inline_rows: number;
  /** Set when create could not start the query: get reports it instead of asking the database. */
  readonly failure?: string;
  readonly failure_retryable?: boolean;
}

function parsePostgresMeta(record: MetaRecord): PostgresMeta {
  const job_id = requireString(record, "job_id");
  if (!isPostgresJobId(job_id)) throw new ResourceMetaError(`field "job_id" is not a PostgreSQL job id`);
  const kinds = optionalField(record, "output_kinds", {});
  if (typeof kinds !== "object" || Array.isArray(kinds)) throw new ResourceMetaError(`field "output_kinds" must be an object`);
  const output_kinds: Record<string, PostgresOutputKind> = {};
  for (const [name, kind] of Object.entries(kinds as Record<string, unknown>)) {
    if (!POSTGRES_OUTPUT_KINDS.includes(kind as PostgresOutputKind)) throw new ResourceMetaError(`output kind of "${name}" is unknown`);
    output_kinds[name] = kind as PostgresOutputKind;
  }
  const types = optionalField(record, "output_types", {});
  if (typeof types !== "object" || Array.isArray(types)) throw new ResourceMetaError(`field "output_types" must be an object`);
  const failure = record["failure"];
  // Client input that sizes the read of the result: bounded as the task's own setting is.
  const max_inline_rows = requireNumber(record, "max_inline_rows");
  if (!Number.isInteger(max_inline_rows) || max_inline_rows < 0 || max_inline_rows > MAX_INLINE_ROWS_LIMIT) {
    throw new ResourceMetaError(`field "max_inline_rows" must be an integer from 0 to ${MAX_INLINE_ROWS_LIMIT}`);
  }
  const schema = requireString(record, "schema");
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new ResourceMetaError(`field "schema" must be a plain identifier`);
  return {
    job_id,
    schema,
    output_kinds,
    output_types: types as JsonObject,
    max_inline_rows,
    ...(typeof failure === "string" ? { failure, failure_retryable: record["failure_retryable"] === true } : {}),
  };
}

/** The metadata codec: Python-compatible JSON, checked on the way in. */
export const postgresMetaCodec = jsonResourceMeta<PostgresMeta>({ parse: parsePostgresMeta });
