import pg from "pg";
import type { Logger } from "../../log/logger.js";
import type { PostgresConnection } from "./postgres-connection.js";
import { postgresFailureFrom } from "./postgres-failure.js";
import type { PostgresJobNames } from "./postgres-job-id.js";
import { ensureJobTable, finishJob, markRunning, qualified, readJob, tryLock } from "./postgres-job-store.js";
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
  /** This process started the query; `done` settles when it has finished and its outcome is recorded. */
  | {
      readonly outcome: "started";
      readonly done: Promise<void>;
      /** Ends the session: PostgreSQL rolls the query back, as if this process had died. */
      abandon(): void;
    }
  /** Another session (a repeated CreateTask on any replica) is running it. */
  | { readonly outcome: "running-elsewhere" }
  /** An earlier run of the same job finished; its record stands. */
  | { readonly outcome: "finished-before" };

/**
 * How long PostgreSQL waits before checking that the client of a running query is still there: a replica
 * killed mid-query has its query cancelled and its lock released within about this time (PostgreSQL ≥ 14;
 * older servers notice when the query ends). TCP keepalives cover a replica whose host vanished.
 */
const CLIENT_CHECK_INTERVAL = "1s";

async function bestEffort(client: pg.Client, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch {
    // An older server lacks the setting; the job still runs, and a dead client is noticed later.
  }
}

/**
 * Starts a query in a session of its own that this process keeps open until the query ends: the session
 * holds the job's advisory lock, and its `application_name` names the job. Resolves once the job is recorded
 * as RUNNING and the lock is held, so that get on any replica sees a running job from the first poll.
 *
 * The query, its result table and its SUCCEEDED record are one transaction: a result table exists if and
 * only if the job succeeded. Whatever ends the session — a crash of this process, a network failure, a
 * cancel — rolls back the work and releases the lock, which is how other replicas tell a dead run.
 */
export async function startQueryRun(spec: QueryRunSpec, signal: AbortSignal): Promise<QueryRunStart> {
  const { names, schema, log } = spec;
  const client = new pg.Client(spec.connection.clientConfig({ application_name: names.applicationName }));
  // node-postgres emits 'error' for a connection that breaks while idle; the run's own promise reports it.
  client.on("error", (e) => log.warn({ jobId: names.jobId, err: e.message }, "PostgreSQL session error"));
  const onAbort = () => void client.end().catch(() => undefined);
  signal.addEventListener("abort", onAbort, { once: true });
  let handedOff = false;
  try {
    await client.connect();
    signal.throwIfAborted();
    await bestEffort(client, "SELECT set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '3', false)");
    await bestEffort(client, `SELECT set_config('client_connection_check_interval', '${CLIENT_CHECK_INTERVAL}', false)`);
    await ensureJobTable(client, schema);
    if (!(await tryLock(client, names.lock))) {
      return { outcome: "running-elsewhere" };
    }
    const record = await readJob(client, schema, names.jobId);
    if (record && record.state !== "RUNNING") return { outcome: "finished-before" };
    // No record, or RUNNING with the lock free: the earlier run's session is gone, so this one runs it.
    await markRunning(client, schema, names.jobId);
    signal.throwIfAborted();
    handedOff = true;
    const backendPid = (client as unknown as { processID?: number }).processID;
    log.info({ jobId: names.jobId, backendPid }, "query started");
    return {
      outcome: "started",
      done: runQuery(client, spec),
      abandon: () => void client.end().catch(() => undefined),
    };
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (!handedOff) await client.end().catch(() => undefined);
  }
}

async function runQuery(client: pg.Client, spec: QueryRunSpec): Promise<void> {
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
    } catch {
      // The session itself is gone: the record stays RUNNING with no lock held, which get reports as a lost
      // run. Nothing better can be written from here.
    }
  } finally {
    // Ending the session releases the job's advisory lock.
    await client.end().catch(() => undefined);
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
    const query = new pg.Query({ text, values: [...values], queryMode: "extended" } as pg.QueryConfig);
    query.on("row", () => undefined);
    query.on("end", (result: pg.QueryResult) => resolve(result.rowCount ?? 0));
    query.on("error", reject);
    client.query(query);
  });
}
