import type pg from "pg";
import { pgLib } from "./pg-lib.js";
import type { PostgresConnection } from "./postgres-connection.js";
import { PG_TYPE_PARSERS } from "./postgres-type-parsers.js";

/** Options of {@link createPostgresPools}. */
export interface PostgresPoolsOptions {
  /** Connections per database and user for get and delete. */
  readonly maxConnections: number;
  /** An idle connection is closed after this long. */
  readonly idleTimeoutMs: number;
  /** The server gives up on one statement of get or delete after this long. */
  readonly statementTimeoutMs: number;
}

/**
 * Connection pools for the short statements of get and delete, one per database and credentials. Polls of
 * many jobs against one database share a few connections instead of opening one per call.
 */
export interface PostgresPools {
  /**
   * Runs `fn` with a pooled client. If `signal` aborts first, the call rejects at once and the client is
   * destroyed rather than returned, so that nothing it was doing outlives the call.
   */
  use<T>(connection: PostgresConnection, signal: AbortSignal, fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Closes every pool. */
  close(): Promise<void>;
}

/** A pool unused this long is closed and forgotten, so that one-off databases do not accumulate. */
const POOL_IDLE_MS = 5 * 60_000;
/**
 * Pools kept at most. Connections come from each call (client input): a stream of calls naming ever new
 * hosts or users must not pile up pools; beyond this, the least recently used idle ones are closed.
 */
const MAX_POOLS = 256;

export function createPostgresPools(options: PostgresPoolsOptions): PostgresPools {
  const pools = new Map<string, { pool: pg.Pool; lastUsed: number }>();

  function poolFor(connection: PostgresConnection): pg.Pool {
    const now = Date.now();
    for (const [key, entry] of pools) {
      if (now - entry.lastUsed > POOL_IDLE_MS && entry.pool.totalCount === 0) {
        pools.delete(key);
        void entry.pool.end().catch(() => undefined);
      }
    }
    let entry = pools.get(connection.cacheKey);
    // Re-inserted on each use, so that the map's order is least recently used first.
    if (entry) pools.delete(connection.cacheKey);
    for (const [key, old] of pools) {
      if (pools.size < MAX_POOLS) break;
      if (old.pool.totalCount > 0) continue;
      pools.delete(key);
      void old.pool.end().catch(() => undefined);
    }
    if (!entry) {
      const pool = new (pgLib().Pool)({
        ...connection.clientConfig({
          application_name: "flyte-connect",
          // Short enough that a retry still fits in the executor's 10 s deadline.
          connectionTimeoutMillis: 3000,
          statement_timeout: options.statementTimeoutMs,
          // Intervals in ISO 8601 (P1DT2H), which output conversion reads as durations.
          options: "-c IntervalStyle=iso_8601",
          types: PG_TYPE_PARSERS,
        }),
        max: options.maxConnections,
        idleTimeoutMillis: options.idleTimeoutMs,
        allowExitOnIdle: true,
      });
      // An idle pooled connection that breaks is discarded by the pool; nothing else to do.
      pool.on("error", () => undefined);
      entry = { pool, lastUsed: now };
    }
    pools.set(connection.cacheKey, entry);
    entry.lastUsed = now;
    return entry.pool;
  }

  return {
    async use(connection, signal, fn) {
      signal.throwIfAborted();
      const pool = poolFor(connection);
      let client: pg.PoolClient | undefined;
      let released = false;
      const release = (destroy: boolean) => {
        if (client && !released) {
          released = true;
          client.release(destroy);
        }
      };
      let onAbort = () => undefined as undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          release(true);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
      const work = (async () => {
        client = await pool.connect();
        if (signal.aborted) {
          release(true);
          throw signal.reason;
        }
        try {
          const result = await fn(client);
          release(false);
          return result;
        } catch (e) {
          // A connection that broke must not go back to the pool; one that reported an SQL error is fine.
          release(!(typeof e === "object" && e !== null && "severity" in e));
          throw e;
        }
      })();
      aborted.catch(() => undefined);
      work.catch(() => undefined);
      try {
        return await Promise.race([work, aborted]);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((e) => e.pool.end().catch(() => undefined)));
    },
  };
}
