import { createHash } from "node:crypto";
import type { ConnectionOptions } from "node:tls";
import type pg from "pg";
import type { SecretSource } from "../../secrets/secret-lookup.js";
import { InvalidTaskError } from "../errors.js";

/**
 * Where and as whom to connect, read from the task's connection at each call: the connector itself holds no
 * credentials, so one service can run queries for many databases and users.
 *
 * Keys (each read from `configs`, then from the secrets): `host`, `port` (default 5432), `database` (or
 * `dbname`), `user` (or `username`), `sslmode` (`disable` default, `require`, `verify-ca`, `verify-full`)
 * and `sslrootcert` (a PEM certificate). The password is the secret named by `password_secret` (default
 * `password`), from the task's connection or the service's own secret sources (docs/secrets.md); a
 * `password` in the configs is the fallback.
 */
export interface PostgresConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Identifies host, database, user and credentials without revealing them; keys the connection pools. */
  readonly cacheKey: string;
  /** `postgresql://user@host:port/database`: for messages and logs, never with the password. */
  readonly display: string;
  /** A node-postgres configuration; extra settings go on top. */
  clientConfig(extra?: Partial<pg.ClientConfig>): pg.ClientConfig;
}

const SSL_MODES = ["disable", "require", "verify-ca", "verify-full"] as const;
type SslMode = (typeof SSL_MODES)[number];

function lookup(configs: Readonly<Record<string, string>>, secret: SecretSource, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const v = configs[key] ?? secret(key);
    if (v !== undefined && v !== "") return v;
  }
  return undefined;
}

function sslOptions(mode: SslMode, host: string, rootCert: string | undefined): false | ConnectionOptions {
  switch (mode) {
    case "disable":
      return false;
    case "require":
      return { rejectUnauthorized: false };
    case "verify-ca":
      // The certificate chain is checked, the host name is not: libpq's meaning of verify-ca.
      return { rejectUnauthorized: true, ca: rootCert, checkServerIdentity: () => undefined };
    case "verify-full":
      return { rejectUnauthorized: true, ca: rootCert, servername: host };
  }
}

/**
 * Reads the connection settings; throws {@link InvalidTaskError} for missing or malformed ones, since
 * retrying with the same connection cannot fix them.
 */
export function postgresConnectionFrom(configs: Readonly<Record<string, string>>, secrets: SecretSource): PostgresConnection {
  const host = lookup(configs, secrets, "host");
  const database = lookup(configs, secrets, "database", "dbname");
  const user = lookup(configs, secrets, "user", "username");
  const missing = [!host && "host", !database && "database", !user && "user"].filter(Boolean);
  if (missing.length > 0) {
    throw new InvalidTaskError(`the task's connection lacks ${missing.join(", ")}: set them in the task's connection configs (python: custom["configs"])`);
  }
  const portText = lookup(configs, secrets, "port") ?? "5432";
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new InvalidTaskError(`the connection's port ${JSON.stringify(portText)} is not a port number`);
  const sslmode = (lookup(configs, secrets, "sslmode") ?? "disable").toLowerCase();
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw new InvalidTaskError(`the connection's sslmode ${JSON.stringify(sslmode)} is not one of ${SSL_MODES.join(", ")}`);
  }
  const passwordSecret = configs.password_secret ?? "password";
  const password = secrets(passwordSecret) ?? configs.password ?? "";
  const rootCert = lookup(configs, secrets, "sslrootcert");
  const ssl = sslOptions(sslmode as SslMode, host!, rootCert);
  const cacheKey = createHash("sha256")
    .update(JSON.stringify([host, port, database, user, password, sslmode, rootCert ?? ""]))
    .digest("hex");
  return {
    host: host!,
    port,
    database: database!,
    user: user!,
    cacheKey,
    display: `postgresql://${user}@${host}:${port}/${database}`,
    clientConfig(extra = {}) {
      return {
        host,
        port,
        database,
        user,
        // A function, so that node-postgres never falls back to PGPASSWORD or ~/.pgpass of the service
        // itself: a task must not borrow the service's own credentials.
        password: async () => password,
        ssl,
        connectionTimeoutMillis: 5000,
        keepAlive: true,
        ...extra,
      };
    },
  };
}
