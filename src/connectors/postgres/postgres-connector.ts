import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { outputTypesFromJson, outputTypesToJson } from "../../literals/convert.js";
import { AsyncConnector, type ConnectorContext, type CreateRequest, type GetContext, type Resource } from "../connector.js";
import { ConnectorError, InvalidTaskError } from "../errors.js";
import { postgresConnectionFrom, type PostgresConnection } from "./postgres-connection.js";
import { postgresFailureFrom } from "./postgres-failure.js";
import { postgresJobIdFrom, postgresJobNamesOf } from "./postgres-job-id.js";
import { finishJob, forgetJob, inspectJob, JOB_TABLE, lockHolder, qualified, readJob } from "./postgres-job-store.js";
import { postgresMetaCodec, type PostgresMeta } from "./postgres-meta.js";
import { loadPg } from "./pg-lib.js";
import { postgresOutputsFrom } from "./postgres-outputs.js";
import { createPostgresPools, type PostgresPools } from "./postgres-pools.js";
import { startQueryRun } from "./postgres-query-run.js";
import { createRunnerSessions, type RunnerSessions } from "./postgres-sessions.js";
import { postgresTaskConfigFrom } from "./postgres-task-config.js";
import { pgParameterFromValue, type PgParameter } from "./pg-parameter-from-value.js";

/** Options of {@link PostgresConnector}; every one has a default, and none is a connection setting. */
export interface PostgresConnectorOptions {
  /** The task type served. Default `"postgres"`. */
  readonly taskTypeName?: string;
  /** The most rows returned as inline outputs, unless the task sets `max_inline_rows`. Default 1000. */
  readonly maxInlineRows?: number;
  /** Pooled connections per database and user for get and delete. Default 8. */
  readonly poolMaxConnections?: number;
  /**
   * Sessions kept open per database and user after their query finished, for the next queries. Default 100.
   * Each is an idle PostgreSQL backend; 0 closes every session when its query ends.
   */
  readonly maxIdleSessions?: number;
  /** `statement_timeout` of get's and delete's statements. Default 5000 ms, well inside the executor's 10 s. */
  readonly statementTimeoutMs?: number;
}

const DEFAULTS = Object.freeze({ taskTypeName: "postgres", maxInlineRows: 1000, poolMaxConnections: 8, statementTimeoutMs: 5000, maxIdleSessions: 100 });

/** How long get and delete keep trying an unreachable server; with a 3 s connect timeout, inside 10 s. */
const RETRY_BUDGET_MS = 6000;

const LOST_RUN =
  "the PostgreSQL session running the query ended before the query finished: the flyte-connect replica that " +
  "started it stopped, or its connection to PostgreSQL broke. Its transaction was rolled back, so nothing of it " +
  "remains; running the task again starts the query afresh";

/**
 * Runs a SQL query against PostgreSQL, with the task's inputs bound as query parameters. `create` starts the
 * query and returns at once; `get` reports RUNNING, SUCCEEDED (with outputs) or FAILED with PostgreSQL's
 * message; `delete` cancels a running query.
 *
 * Stateless across replicas: the job's state lives in the database the query runs in — a record in the job
 * table, a result table, and an advisory lock held by the session running the query — so any replica can
 * answer get and delete for a query another replica started, and a replica that dies mid-query shows up as a
 * released lock on a RUNNING record: RETRYABLE_FAILED, never a task stuck in RUNNING. See
 * docs/connectors/postgres.md.
 *
 * Host, database and user come from each task's connection, the password from its secrets or the service's
 * own (ctx.secret); the connector is built without any.
 *
 * @example
 * const registry = createConnectorRegistry([new PostgresConnector()]);
 */
export class PostgresConnector extends AsyncConnector<PostgresMeta> {
  readonly name = "PostgreSQL Connector";
  readonly taskTypeName: string;
  override readonly metadata = postgresMetaCodec;

  private readonly options: Required<PostgresConnectorOptions>;
  private readonly pools: PostgresPools;
  private readonly sessions: RunnerSessions;
  private readonly knownJobTables = new Set<string>();
  /** Queries this process runs, so that close() can let go of them. */
  private readonly runs = new Set<{ abandon(): void; done: Promise<void> }>();

  constructor(options: PostgresConnectorOptions = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.taskTypeName = this.options.taskTypeName;
    this.pools = createPostgresPools({
      maxConnections: this.options.poolMaxConnections,
      idleTimeoutMs: 10_000,
      statementTimeoutMs: this.options.statementTimeoutMs,
    });
    this.sessions = createRunnerSessions({ maxIdlePerDatabase: this.options.maxIdleSessions, idleTimeoutMs: 60_000 });
  }

  async create(request: CreateRequest, ctx: ConnectorContext): Promise<PostgresMeta> {
    await loadPg();
    const config = postgresTaskConfigFrom(request.template, request.outputTypes, { maxInlineRows: this.options.maxInlineRows });
    const connection = postgresConnectionFrom(ctx.configs, (name) => ctx.secret(name));
    let parameters: PgParameter[];
    try {
      parameters = config.parameterNames.map((name) => pgParameterFromValue(request.inputs[name]));
    } catch (e) {
      throw new InvalidTaskError(`an input cannot be a query parameter: ${(e as Error).message}`, { cause: e });
    }
    const names = postgresJobNamesOf(postgresJobIdFrom(request.idempotencyKey));
    const meta: PostgresMeta = {
      job_id: names.jobId,
      schema: config.schema,
      output_kinds: config.outputKinds,
      output_types: outputTypesToJson(request.outputTypes),
      max_inline_rows: config.maxInlineRows,
    };
    const hasOutputs = Object.keys(config.outputKinds).length > 0;
    try {
      const start = await startQueryRun(
        {
          connection,
          names,
          schema: config.schema,
          statement: config.statement,
          parameters,
          resultTable: hasOutputs ? { unlogged: !Object.values(config.outputKinds).includes("table") } : undefined,
          statementTimeoutMs: config.statementTimeoutMs,
          log: ctx.log,
        },
        { sessions: this.sessions, knownJobTables: this.knownJobTables },
        ctx.signal,
      );
      if (start.outcome === "started") {
        const run = { abandon: start.abandon, done: start.done };
        this.runs.add(run);
        void start.done.finally(() => this.runs.delete(run));
      } else {
        ctx.log.info({ jobId: names.jobId }, "CreateTask repeated for a job already started");
      }
      return meta;
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      // The database refused or could not be reached. That is the job's failure, reported by the first get
      // with PostgreSQL's words, not a CreateTask error (which the executor can only retry blindly).
      const failure = postgresFailureFrom(e);
      ctx.log.warn({ jobId: names.jobId, sqlstate: failure.sqlstate, retryable: failure.retryable }, "could not start the query");
      return { ...meta, failure: `could not start the query on ${connection.display}: ${failure.message}`, failure_retryable: failure.retryable };
    }
  }

  async get(meta: PostgresMeta, ctx: GetContext): Promise<Resource> {
    await loadPg();
    if (meta.failure !== undefined) return { phase: meta.failure_retryable ? "RETRYABLE_FAILED" : "FAILED", message: meta.failure };
    const connection = this.connectionFor(ctx);
    const names = postgresJobNamesOf(meta.job_id);
    const customInfo = { job_id: meta.job_id };
    return this.withDatabase(connection, ctx, "check the query", async (client) => {
      // The lock first, then the record: a run releases its lock only after its outcome is committed, so a
      // RUNNING record read after seeing no lock holder really is a run that died.
      const { holder, record } = await inspectJob(client, meta.schema, meta.job_id, names.lock);
      if (!record) {
        if (holder !== undefined) return { phase: "RUNNING", customInfo };
        return {
          phase: "FAILED",
          message: `no record of query job ${meta.job_id} in ${meta.schema}.${JOB_TABLE}: it was deleted, or the task's connection points at another database`,
          customInfo,
        };
      }
      const took = `${record.seconds.toFixed(1)} s`;
      switch (record.state) {
        case "RUNNING":
          return holder !== undefined
            ? { phase: "RUNNING", message: `query running for ${took}`, customInfo }
            : { phase: "RETRYABLE_FAILED", message: LOST_RUN, customInfo };
        case "FAILED":
        case "RETRYABLE_FAILED":
          return { phase: record.state, message: `query failed: ${record.message ?? "no message"}`, customInfo };
        case "ABORTED":
          return { phase: "ABORTED", message: record.message ?? "query cancelled", customInfo };
        case "SUCCEEDED":
          break;
      }
      const rowCount = record.rowCount ?? 0n;
      const message = `query succeeded in ${took}: ${rowCount} row${rowCount === 1n ? "" : "s"}`;
      const outputTypes = outputTypesFromJson(meta.output_types);
      if (Object.keys(meta.output_kinds).length === 0) return { phase: "SUCCEEDED", message, customInfo };
      const table = qualified(meta.schema, names.resultTable);
      const outputs = await postgresOutputsFrom({
        kinds: meta.output_kinds,
        types: outputTypes,
        rowCount,
        maxInlineRows: meta.max_inline_rows,
        table: {
          qualifiedName: `${meta.schema}.${names.resultTable}`,
          uri: `postgresql://${connection.host}:${connection.port}/${connection.database}/${meta.schema}.${names.resultTable}`,
        },
        readRows: async (limit) => {
          try {
            const r = await client.query<Record<string, unknown>>(`SELECT * FROM ${table} LIMIT ${limit}`);
            return { columns: r.fields.map((f) => f.name), rows: r.rows };
          } catch (e) {
            if ((e as { code?: unknown }).code === "42P01") {
              throw ConnectorError.permanent(`the result table ${meta.schema}.${names.resultTable} no longer exists: the task was deleted`);
            }
            throw e;
          }
        },
      });
      return { phase: "SUCCEEDED", message, outputs, outputTypes, customInfo };
    });
  }

  async delete(meta: PostgresMeta, ctx: ConnectorContext): Promise<void> {
    await loadPg();
    // Create never started anything: nothing to cancel (the executor deletes such tasks too).
    if (meta.failure !== undefined) return;
    let connection: PostgresConnection;
    try {
      connection = postgresConnectionFrom(ctx.configs, (name) => ctx.secret(name));
    } catch {
      // Without a usable connection there is nothing this call can reach; DeleteTask must still succeed
      // (docs/flyte-executor.md §4.6), or the finalizer retries it every 10 s forever.
      return;
    }
    const names = postgresJobNamesOf(meta.job_id);
    const keepTable = Object.values(meta.output_kinds).includes("table");
    try {
      await this.withDatabase(connection, ctx, "cancel the query", async (client) => {
        const holder = await lockHolder(client, names.lock);
        if (holder !== undefined) {
          // Marked first, so that a run finishing right now rolls back instead of committing a success.
          await finishJob(client, meta.schema, meta.job_id, { state: "ABORTED", message: "query cancelled by DeleteTask" });
          await client.query("SELECT pg_cancel_backend($1)", [holder]);
          ctx.log.info({ jobId: meta.job_id, backendPid: holder }, "query cancelled");
          return;
        }
        // Nothing runs. The executor's garbage collector also lands here about an hour after every job
        // (§4.6): drop rows nobody will read, keep a result table that outputs name, forget the record.
        const record = await readJob(client, meta.schema, meta.job_id);
        if (!record) return;
        if (record.state === "RUNNING") await finishJob(client, meta.schema, meta.job_id, { state: "ABORTED", message: LOST_RUN });
        if (!(keepTable && record.state === "SUCCEEDED")) await client.query(`DROP TABLE IF EXISTS ${qualified(meta.schema, names.resultTable)}`);
        await forgetJob(client, meta.schema, meta.job_id);
      });
    } catch (e) {
      // No job table means no job was ever recorded in this schema: nothing to delete.
      if (e instanceof ConnectorError && (e.cause as { code?: unknown } | undefined)?.code === "42P01") return;
      throw e;
    }
  }

  /**
   * Lets go of the queries this process runs and closes the pools. A query it ran is rolled back by
   * PostgreSQL when its session ends, and reported RETRYABLE_FAILED by whichever replica polls it next:
   * the same path as a replica that crashed, taken on purpose.
   */
  override async close(): Promise<void> {
    const runs = [...this.runs];
    for (const run of runs) run.abandon();
    await Promise.all(runs.map((r) => r.done.catch(() => undefined)));
    await this.sessions.close();
    await this.pools.close();
  }

  private connectionFor(ctx: ConnectorContext): PostgresConnection {
    try {
      return postgresConnectionFrom(ctx.configs, (name) => ctx.secret(name));
    } catch (e) {
      // The same connection came with CreateTask; if it is unusable now, so is the job.
      if (e instanceof InvalidTaskError) throw ConnectorError.permanent(e.message, { cause: e });
      throw e;
    }
  }

  /**
   * Runs a few statements on a pooled connection, retrying while PostgreSQL is unreachable (a restart, a
   * failover) for up to about 6 s, inside the executor's 10 s deadline. What still fails becomes a
   * ConnectorError: retryable when PostgreSQL was unreachable or said "try again", permanent otherwise (a
   * bad password, a missing table).
   */
  private async withDatabase<T>(connection: PostgresConnection, ctx: ConnectorContext, what: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.pools.use(connection, ctx.signal, fn);
      } catch (e) {
        if (e instanceof ConnectorError || ctx.signal.aborted) throw e;
        const failure = postgresFailureFrom(e);
        const delay = Math.min(1000, 200 * 2 ** attempt);
        if (failure.retryable && failure.sqlstate === undefined && Date.now() - started + delay < RETRY_BUDGET_MS) {
          await sleep(delay, undefined, { signal: ctx.signal });
          continue;
        }
        const message = `could not ${what} on ${connection.display}: ${failure.message}`;
        throw failure.retryable ? ConnectorError.retryable(message, { cause: e }) : ConnectorError.permanent(message, { cause: e });
      }
    }
  }
}
