import type pg from "pg";
import { pgLib } from "./pg-lib.js";
import type { PostgresConnection } from "./postgres-connection.js";

/** Options of {@link createRunnerSessions}. */
export interface RunnerSessionsOptions {
  /** Idle sessions kept per database and user, ready for the next query. */
  readonly maxIdlePerDatabase: number;
  /** An idle session is closed after this long. */
  readonly idleTimeoutMs: number;
}

/**
 * The sessions queries run in. A running query needs a session of its own for as long as it runs, so a
 * burst of 100 tasks needs 100 sessions; opening one costs a PostgreSQL backend and an authentication
 * (tens of milliseconds each on a busy server), so a session whose query finished is kept for the next one
 * instead of being closed. Before it is kept, its advisory locks are released and its name reset, so an idle
 * session never looks like a running job.
 */
export interface RunnerSessions {
  /** An idle session for this database and user, or a new one. */
  acquire(connection: PostgresConnection, signal: AbortSignal): Promise<pg.Client>;
  /**
   * Gives a session back after its job: kept if `healthy` and there is room, otherwise ended. Either way the
   * job's advisory lock is released (ending a session releases it too).
   */
  release(connection: PostgresConnection, client: pg.Client, healthy: boolean): Promise<void>;
  /** Ends every idle session. Sessions in use are ended by their owners. */
  close(): Promise<void>;
}

export const IDLE_APPLICATION_NAME = "flyte-connect idle";

/**
 * How soon PostgreSQL notices that the client of a running query is gone: `client_connection_check_interval`
 * (PostgreSQL ≥ 14) cancels the query of a replica killed mid-query within a second, which releases its lock;
 * TCP keepalives do the same, more slowly, for a replica whose host vanished without closing its sockets.
 */
const KEEPALIVES = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3";
const CLIENT_CHECK = "-c client_connection_check_interval=1000";

interface Idle {
  readonly client: pg.Client;
  readonly timer: NodeJS.Timeout;
}

export function createRunnerSessions(options: RunnerSessionsOptions): RunnerSessions {
  const idle = new Map<string, Idle[]>();
  /** Servers older than 14 refuse the client check setting; remembered so that we ask once. */
  const noClientCheck = new Set<string>();
  const broken = new WeakSet<pg.Client>();

  async function open(connection: PostgresConnection, signal: AbortSignal): Promise<pg.Client> {
    const withCheck = !noClientCheck.has(connection.cacheKey);
    const client = new (pgLib().Client)(
      connection.clientConfig({ application_name: IDLE_APPLICATION_NAME, options: withCheck ? `${KEEPALIVES} ${CLIENT_CHECK}` : KEEPALIVES }),
    );
    // A session that breaks while idle or running is marked, so that it is never handed out again; the
    // running job's own promise reports its failure.
    client.on("error", () => broken.add(client));
    client.on("end", () => broken.add(client));
    const onAbort = () => void client.end().catch(() => undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await client.connect();
      signal.throwIfAborted();
      return client;
    } catch (e) {
      await client.end().catch(() => undefined);
      if (withCheck && (e as { code?: unknown }).code === "42704" && String((e as Error).message).includes("client_connection_check_interval")) {
        noClientCheck.add(connection.cacheKey);
        return open(connection, signal);
      }
      throw e;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  return {
    async acquire(connection, signal) {
      const list = idle.get(connection.cacheKey) ?? [];
      for (let entry = list.pop(); entry; entry = list.pop()) {
        clearTimeout(entry.timer);
        if (!broken.has(entry.client)) return entry.client;
        void entry.client.end().catch(() => undefined);
      }
      return open(connection, signal);
    },

    async release(connection, client, healthy) {
      const list = idle.get(connection.cacheKey) ?? [];
      if (healthy && !broken.has(client) && list.length < options.maxIdlePerDatabase) {
        try {
          await client.query(`SELECT pg_advisory_unlock_all(), set_config('application_name', '${IDLE_APPLICATION_NAME}', false)`);
          const timer = setTimeout(() => {
            const at = list.findIndex((e) => e.client === client);
            if (at !== -1) list.splice(at, 1);
            void client.end().catch(() => undefined);
          }, options.idleTimeoutMs);
          timer.unref();
          list.push({ client, timer });
          idle.set(connection.cacheKey, list);
          return;
        } catch {
          // Could not reset it: it is not fit to be reused.
        }
      }
      await client.end().catch(() => undefined);
    },

    async close() {
      const all = [...idle.values()].flat();
      idle.clear();
      await Promise.all(
        all.map((e) => {
          clearTimeout(e.timer);
          return e.client.end().catch(() => undefined);
        }),
      );
    },
  };
}
