import type pg from "pg";
import { pgLib } from "./pg-lib.js";
import type { Logger } from "../../log/logger.js";
import type { PostgresConnection } from "./postgres-connection.js";
import { postgresFailureFrom } from "./postgres-failure.js";
import type { PostgresJobNames } from "./postgres-job-id.js";
import { claimJob, ensureJobTable, finishJob, qualified } from "./postgres-job-store.js";
import type { RunnerSessions } from "./postgres-sessions.js";
import type { PgParameter } from "./pg-parameter-from-value.js";

/** One query to run for a job. */
export interface QueryRunSpec {
  readonly connection: PostgresConnection;
  readonly names: PostgresJobNames;
  readonly schema: string;
  /** One statement, with `$n` placeholders. */
  readonly statement: string;
  readonly parameters: readonly PgParameter[];
  /**
   * Write the rows to the job's result table (`CREATE TABLE … AS`), for tasks with outputs. An unlogged table
   * is cheaper and enough when the rows are only read back by get.
   */
  readonly resultTable?: { readonly unlogged: boolean };
  /** `statement_timeout` for the query; 0 or absent for none. */
  readonly statementTimeoutMs?: number;
  readonly log: Logger;
}

/** How starting a run went. */
export type QueryRunStart =
  | {
      /** This process started the query; `done` settles when it has finished and its outcome is recorded. */
      readonly outcome: "started";
      readonly done: Promise<void>;
      /** Ends the session: PostgreSQL rolls the query back, as if this process had died. */
      abandon(): void;
    }
  /** Another session (a repeated CreateTask, on any replica) runs it, or an earlier run's outcome stands. */
  | { readonly outcome: "not-started" };

/** What a run needs besides its spec: where sessions come from, and which job tables are known to exist. */
export interface QueryRunResources {
  readonly sessions: RunnerSessions;
  /** `cacheKey/schema` of job tables this process has seen, so that each is checked once. */
  readonly knownJobTables: Set<string>;
}

/**
 * Starts a query in a session that this process keeps for as long as the query runs: the session holds the
 * job's advisory lock, and its `application_name` names the job. Resolves once the job is recorded as
 * RUNNING and the lock is held, so that get on any replica sees a running job from the first poll.
 *
 * The query, its result table and its SUCCEEDED record are one transaction: a result table exists if and
 * only if the job succeeded. Whatever ends the session — a crash of this process, a network failure, a
 * cancel — rolls back the work and releases the lock, which is how other replicas tell a dead run.
 */
export async function startQueryRun(spec: QueryRunSpec, resources: QueryRunResources, signal: AbortSignal): Promise<QueryRunStart> {
  const { names, schema, log, connection } = spec;
  const client = await resources.sessions.acquire(connection, signal);
  let handedOff = false;
  let healthy = false;
  try {
    const tableKey = `${connection.cacheKey}/${schema}`;
    if (!resources.knownJobTables.has(tableKey)) {
      await ensureJobTable(client, schema);
      resources.knownJobTables.add(tableKey);
    }
    const claimed = await claimJob(client, schema, names.jobId, names.lock, names.applicationName);
    healthy = true;
    if (!claimed) return { outcome: "not-started" };
    signal.throwIfAborted();
    handedOff = true;
    log.info({ jobId: names.jobId, backendPid: (client as unknown as { processID?: number }).processID }, "query started");
    return {
      outcome: "started",
      done: runQuery(client, spec).then((reusable) => resources.sessions.release(connection, client, reusable)),
      abandon: () => void client.end().catch(() => undefined),
    };
  } finally {
    if (!handedOff) await resources.sessions.release(connection, client, healthy && !signal.aborted);
  }
}

/** Runs the query and records its outcome; resolves with whether the session is fit to be reused. */
async function runQuery(client: pg.Client, spec: QueryRunSpec): Promise<boolean> {
  const { names, schema, log } = spec;
  try {
    await client.query("BEGIN");
    if (spec.statementTimeoutMs) await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(spec.statementTimeoutMs))}`);
    let rowCount: number;
    if (spec.resultTable) {
      const table = qualified(schema, names.resultTable);
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      const r = await client.query({
        text: `CREATE ${spec.resultTable.unlogged ? "UNLOGGED " : ""}TABLE ${table} AS ${spec.statement}`,
        values: [...spec.parameters],
        queryMode: "extended",
      } as pg.QueryConfig);
      rowCount = r.rowCount ?? 0;
    } else {
      rowCount = await runDiscardingRows(client, spec.statement, spec.parameters);
    }
    if (await finishJob(client, schema, names.jobId, { state: "SUCCEEDED", rowCount })) {
      await client.query("COMMIT");
      log.info({ jobId: names.jobId, rowCount }, "query succeeded");
    } else {
      // DeleteTask marked the job ABORTED while the query ran: its work must not become visible.
      await client.query("ROLLBACK");
      log.info({ jobId: names.jobId }, "query finished after it was cancelled; rolled back");
    }
    return true;
  } catch (e) {
    const failure = postgresFailureFrom(e);
    log.info({ jobId: names.jobId, sqlstate: failure.sqlstate }, "query failed");
    try {
      await client.query("ROLLBACK");
      await finishJob(client, schema, names.jobId, {
        state: failure.retryable ? "RETRYABLE_FAILED" : "FAILED",
        message: failure.message,
        sqlstate: failure.sqlstate,
      });
      return true;
    } catch {
      // The session itself is gone: the record stays RUNNING with no lock held, which get reports as a lost
      // run. Nothing better can be written from here.
      return false;
    }
  }
}

/**
 * Runs a statement for its effect. A task without outputs has no use for rows, so none are kept in memory,
 * however many the statement returns.
 */
function runDiscardingRows(client: pg.Client, text: string, values: readonly PgParameter[]): Promise<number> {
  return new Promise((resolve, reject) => {
    // Extended protocol even without parameters: one statement, never a script that could COMMIT our
    // transaction from inside.
    const query = new (pgLib().Query)({ text, values: [...values], queryMode: "extended" } as pg.QueryConfig);
    query.on("row", () => undefined);
    query.on("end", (result: pg.QueryResult) => resolve(result.rowCount ?? 0));
    query.on("error", reject);
    client.query(query);
  });
}
