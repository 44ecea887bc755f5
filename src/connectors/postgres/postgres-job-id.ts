import { createHash } from "node:crypto";

/**
 * The names one query job goes by in the database, all derived from its id, so that any replica can find
 * the job's record, its result table and the session running it from the id in the resource metadata.
 */
export interface PostgresJobNames {
  /** `fc` and 24 hex digits; the primary key of the job's record. */
  readonly jobId: string;
  /** The table the query's rows are written to. */
  readonly resultTable: string;
  /** The session running the query holds this session-level advisory lock for as long as it lives. */
  readonly lock: AdvisoryLock;
  /** The running session's `application_name`, so that a DBA can tell it in `pg_stat_activity`. */
  readonly applicationName: string;
}

/** A `pg_advisory_lock(bigint)` key and how `pg_locks` shows it (`classid`, `objid`, `objsubid = 1`). */
export interface AdvisoryLock {
  /** The signed 64-bit key, as decimal text for a `bigint` parameter. */
  readonly key: string;
  /** The high 32 bits, unsigned. */
  readonly classid: number;
  /** The low 32 bits, unsigned. */
  readonly objid: number;
}

const JOB_ID = /^fc[0-9a-f]{24}$/;

/**
 * The job id of one task attempt. The executor sends the same idempotency key when it repeats CreateTask for
 * an attempt (docs/flyte-executor.md §4.5), so a repeated create finds the job the first one started.
 */
export function postgresJobIdFrom(idempotencyKey: string): string {
  return `fc${createHash("sha256").update(`postgres\u0000${idempotencyKey}`).digest("hex").slice(0, 24)}`;
}

/** Whether a string is a job id, so that it can be used in identifiers without quoting surprises. */
export function isPostgresJobId(value: string): boolean {
  return JOB_ID.test(value);
}

/** The names of a job; throws for anything that is not a job id. */
export function postgresJobNamesOf(jobId: string): PostgresJobNames {
  if (!isPostgresJobId(jobId)) throw new TypeError(`not a PostgreSQL job id: ${JSON.stringify(jobId)}`);
  const digest = createHash("sha256").update(`lock\u0000${jobId}`).digest();
  const classid = digest.readUInt32BE(0);
  const objid = digest.readUInt32BE(4);
  return {
    jobId,
    resultTable: `flyte_result_${jobId.slice(2)}`,
    lock: { key: digest.readBigInt64BE(0).toString(), classid, objid },
    applicationName: `flyte-connect ${jobId}`,
  };
}
