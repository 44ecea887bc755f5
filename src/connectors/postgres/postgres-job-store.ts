import type pg from "pg";
import { pgLib } from "./pg-lib.js";
import type { AdvisoryLock } from "./postgres-job-id.js";

/**
 * The job table: one row per query job, in the database the query runs in, so that every replica of the
 * service sees the same state. Together with the advisory lock held by the session running a query, it is
 * the whole state of a job; a replica keeps nothing that another one would need.
 */
export const JOB_TABLE = "flyte_connect_jobs";

/** A job's state as recorded. RUNNING is only believed while the running session holds the job's lock. */
export type RecordedState = "RUNNING" | "SUCCEEDED" | "FAILED" | "RETRYABLE_FAILED" | "ABORTED";

export interface JobRecord {
  readonly state: RecordedState;
  readonly message: string | null;
  readonly sqlstate: string | null;
  readonly rowCount: bigint | null;
  /** Seconds from start to finish, or to now while running. */
  readonly seconds: number;
}

type Queryable = Pick<pg.ClientBase, "query">;

/** `"schema"."table"`, quoted for SQL text. */
export function qualified(schema: string, table: string): string {
  return `${pgLib().escapeIdentifier(schema)}.${pgLib().escapeIdentifier(table)}`;
}

/**
 * Creates the schema if it is missing, and the job table if it is missing. Replicas starting their first
 * jobs at the same moment would race on the catalog (CREATE TABLE IF NOT EXISTS is not safe against a
 * concurrent twin), so creation runs under a transaction-level advisory lock.
 */
export async function ensureJobTable(client: Queryable, schema: string): Promise<void> {
  const exists = await client.query<{ ok: boolean }>("SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2) AS ok", [
    schema,
    JOB_TABLE,
  ]);
  if (exists.rows[0]?.ok) return;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(8242349521790447411)");
    const hasSchema = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (hasSchema.rowCount === 0) await client.query(`CREATE SCHEMA ${pgLib().escapeIdentifier(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${qualified(schema, JOB_TABLE)} (
        job_id text PRIMARY KEY,
        state text NOT NULL,
        message text,
        sqlstate text,
        row_count bigint,
        runs integer NOT NULL DEFAULT 1,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`,
    );
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/**
 * Claims a job for this session in one statement: takes the job's advisory lock if no other session holds
 * it, names the session after the job, and records the job RUNNING — unless its record already holds an
 * outcome. Returns whether this session is now the one to run the query. When it is not, the session may
 * still hold the lock; releasing the session (or ending it) drops it.
 *
 * ON CONFLICT DO UPDATE judges the existing row by its latest committed version, so a run that committed
 * its outcome a moment ago is never started again by a repeated CreateTask.
 */
export async function claimJob(client: Queryable, schema: string, jobId: string, lock: AdvisoryLock, applicationName: string): Promise<boolean> {
  const r = await client.query(
    `WITH claim AS (SELECT pg_try_advisory_lock($2::bigint) AS locked, set_config('application_name', $3, false) AS app)
     INSERT INTO ${qualified(schema, JOB_TABLE)} AS j (job_id, state)
     SELECT $1, 'RUNNING' FROM claim WHERE claim.locked
     ON CONFLICT (job_id) DO UPDATE SET state = 'RUNNING', message = NULL, sqlstate = NULL, row_count = NULL,
       runs = j.runs + 1, started_at = now(), finished_at = NULL
       WHERE j.state = 'RUNNING'
     RETURNING j.runs`,
    [jobId, lock.key, applicationName],
  );
  return r.rowCount === 1;
}

/** The backend process holding the job's lock: the session running the query, if it is alive. */
export async function lockHolder(client: Queryable, lock: AdvisoryLock): Promise<number | undefined> {
  const r = await client.query<{ pid: number }>(`${LOCK_HOLDER_SQL} AND l.classid = $1::oid AND l.objid = $2::oid`, [String(lock.classid), String(lock.objid)]);
  return r.rowCount === 0 ? undefined : r.rows[0]!.pid;
}

const LOCK_HOLDER_SQL = `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
  WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.granted AND l.objsubid = 1`;

const RECORD_COLUMNS = `state, message, sqlstate, row_count, extract(epoch FROM coalesce(finished_at, now()) - started_at)::float8 AS seconds`;

type RecordRow = { state: RecordedState; message: string | null; sqlstate: string | null; row_count: bigint | string | null; seconds: number };

function recordFrom(row: RecordRow | undefined): JobRecord | undefined {
  if (!row) return undefined;
  return {
    state: row.state,
    message: row.message,
    sqlstate: row.sqlstate,
    rowCount: row.row_count === null ? null : BigInt(row.row_count),
    seconds: row.seconds,
  };
}

/**
 * Who holds the job's lock, then the job's record, in one round trip but two statements: the record is read
 * after the lock, with a snapshot of its own. A run releases its lock only after committing its outcome, so
 * a RUNNING record read after seeing no lock holder is a run that died — never one that just finished.
 * (One statement would read the record with a snapshot older than the lock check.) The values are inlined
 * because several statements in one round trip take no parameters: the lock key is two numbers, the job id
 * is checked to be `fc` and hex digits, and the schema is quoted.
 */
export async function inspectJob(client: Queryable, schema: string, jobId: string, lock: AdvisoryLock): Promise<{ holder?: number; record?: JobRecord }> {
  if (!/^fc[0-9a-f]{24}$/.test(jobId)) throw new TypeError("not a job id");
  const results = (await client.query(
    `${LOCK_HOLDER_SQL} AND l.classid = ${Number(lock.classid)}::oid AND l.objid = ${Number(lock.objid)}::oid;
     SELECT ${RECORD_COLUMNS} FROM ${qualified(schema, JOB_TABLE)} WHERE job_id = '${jobId}'`,
  )) as unknown as [pg.QueryResult<{ pid: number }>, pg.QueryResult<RecordRow>];
  const holder = results[0].rows[0]?.pid;
  const record = recordFrom(results[1].rows[0]);
  return { ...(holder === undefined ? {} : { holder }), ...(record ? { record } : {}) };
}

export async function readJob(client: Queryable, schema: string, jobId: string): Promise<JobRecord | undefined> {
  const r = await client.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM ${qualified(schema, JOB_TABLE)} WHERE job_id = $1`, [jobId]);
  return recordFrom(r.rows[0]);
}

/**
 * Moves a RUNNING job to its outcome. Returns false when the job was no longer RUNNING (DeleteTask marked it
 * ABORTED meanwhile): the caller then rolls its work back.
 */
export async function finishJob(
  client: Queryable,
  schema: string,
  jobId: string,
  outcome: { state: Exclude<RecordedState, "RUNNING">; message?: string; sqlstate?: string; rowCount?: number },
): Promise<boolean> {
  const r = await client.query(
    `UPDATE ${qualified(schema, JOB_TABLE)} SET state = $2, message = $3, sqlstate = $4, row_count = $5, finished_at = now()
      WHERE job_id = $1 AND state = 'RUNNING'`,
    [jobId, outcome.state, outcome.message ?? null, outcome.sqlstate ?? null, outcome.rowCount ?? null],
  );
  return r.rowCount === 1;
}

/** Removes the job's record. */
export async function forgetJob(client: Queryable, schema: string, jobId: string): Promise<void> {
  await client.query(`DELETE FROM ${qualified(schema, JOB_TABLE)} WHERE job_id = $1 AND state <> 'RUNNING'`, [jobId]);
}
