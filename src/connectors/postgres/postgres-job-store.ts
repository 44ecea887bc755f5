import pg from "pg";
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
  return `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`;
}

/**
 * Creates the schema if it is missing, and the job table if it is missing. Replicas starting their first
 * jobs at the same moment would race on the catalog (CREATE TABLE IF NOT EXISTS is not safe against a
 * concurrent twin), so creation runs under a transaction-level advisory lock.
 */
export async function ensureJobTable(client: Queryable, schema: string): Promise<void> {
  const exists = await client.query<{ ok: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2) AS ok",
    [schema, JOB_TABLE],
  );
  if (exists.rows[0]?.ok) return;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(8242349521790447411)");
    const hasSchema = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (hasSchema.rowCount === 0) await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
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

/** Takes the job's lock for this session if no other session holds it. */
export async function tryLock(client: Queryable, lock: AdvisoryLock): Promise<boolean> {
  const r = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [lock.key]);
  return r.rows[0]?.locked === true;
}

/** The backend process holding the job's lock: the session running the query, if it is alive. */
export async function lockHolder(client: Queryable, lock: AdvisoryLock): Promise<number | undefined> {
  const r = await client.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.granted
        AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 1`,
    [String(lock.classid), String(lock.objid)],
  );
  return r.rows[0]?.pid;
}

export async function readJob(client: Queryable, schema: string, jobId: string): Promise<JobRecord | undefined> {
  const r = await client.query<{ state: RecordedState; message: string | null; sqlstate: string | null; row_count: bigint | string | null; seconds: number }>(
    `SELECT state, message, sqlstate, row_count,
            extract(epoch FROM coalesce(finished_at, now()) - started_at)::float8 AS seconds
       FROM ${qualified(schema, JOB_TABLE)} WHERE job_id = $1`,
    [jobId],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    state: row.state,
    message: row.message,
    sqlstate: row.sqlstate,
    rowCount: row.row_count === null ? null : BigInt(row.row_count),
    seconds: row.seconds,
  };
}

/** Records a (re)started run; call only while holding the job's lock. */
export async function markRunning(client: Queryable, schema: string, jobId: string): Promise<void> {
  await client.query(
    `INSERT INTO ${qualified(schema, JOB_TABLE)} AS j (job_id, state) VALUES ($1, 'RUNNING')
     ON CONFLICT (job_id) DO UPDATE SET state = 'RUNNING', message = NULL, sqlstate = NULL, row_count = NULL,
       runs = j.runs + 1, started_at = now(), finished_at = NULL`,
    [jobId],
  );
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
