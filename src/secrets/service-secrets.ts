import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SecretSource } from "./secret-lookup.js";

/** Options of {@link createServiceSecrets}. */
export interface ServiceSecretsOptions {
  /** A directory with one file per secret, as Kubernetes mounts a Secret. Empty: none. */
  readonly dir: string;
  /** The prefix of the secret environment variables. */
  readonly envPrefix: string;
  /** Those variables, name → value (see `secretEnvironment` in src/config). */
  readonly env: Readonly<Record<string, string>>;
  /** How long a file's contents (and the directory's listing) are reused before they are read again. */
  readonly cacheTtlMs: number;
  /** The clock; for tests. */
  readonly now?: () => number;
}

/** The service's own secrets: looked up by name, and all of their values for redaction. */
export interface ServiceSecrets {
  readonly lookup: SecretSource;
  /** Every value the service's sources hold now, keyed by where it came from; for redaction only. */
  values(): Readonly<Record<string, string>>;
}

/**
 * The environment variable of a secret: the prefix, then the name in capitals with every character other
 * than A–Z and 0–9 replaced by `_`. `password` → `FLYTE_CONNECT_SECRET_PASSWORD`, `db-password` and
 * `db.password` → `FLYTE_CONNECT_SECRET_DB_PASSWORD`.
 */
export function secretEnvName(prefix: string, name: string): string {
  return `${prefix}${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** Kubernetes Secret keys: letters, digits, `-`, `_` and `.`; never a dot first (`..data` is the mount's own). */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,252}$/;

/**
 * The service's secret sources, asked after the task's connection: first the mounted directory, where a
 * rotated secret shows up without a restart (kubelet rewrites the files), then the environment, which is
 * fixed for the life of the process. A file's value is its contents without one trailing newline (what
 * `kubectl create secret --from-file` of a text file gives). Files are read on lookup and their contents kept
 * for `cacheTtlMs`, so a call costs no I/O in the common case and a rotation is seen within that time.
 */
export function createServiceSecrets(options: ServiceSecretsOptions): ServiceSecrets {
  const now = options.now ?? Date.now;
  const files = new Map<string, { value: string | undefined; readAt: number }>();
  let all: { values: Readonly<Record<string, string>>; readAt: number } | undefined;

  const fromFile = (name: string): string | undefined => {
    if (options.dir === "" || !FILE_NAME.test(name)) return undefined;
    const cached = files.get(name);
    if (cached && now() - cached.readAt < options.cacheTtlMs) return cached.value;
    let value: string | undefined;
    try {
      value = readFileSync(join(options.dir, name), "utf8").replace(/\r?\n$/, "");
    } catch {
      value = undefined;
    }
    // Bounded by the directory's contents for found names; unknown names are few (the connectors' own).
    if (files.size > 1024) files.clear();
    files.set(name, { value, readAt: now() });
    return value;
  };
  const fromEnv = (name: string): string | undefined => (options.envPrefix === "" ? undefined : options.env[secretEnvName(options.envPrefix, name)]);

  return {
    lookup: (name) => fromFile(name) ?? fromEnv(name),
    values() {
      if (all && now() - all.readAt < options.cacheTtlMs) return all.values;
      const values: Record<string, string> = { ...options.env };
      if (options.dir !== "") {
        let names: string[] = [];
        try {
          names = readdirSync(options.dir).filter((n) => FILE_NAME.test(n));
        } catch {
          names = [];
        }
        for (const n of names) {
          const v = fromFile(n);
          if (v !== undefined) values[`file:${n}`] = v;
        }
      }
      all = { values: Object.freeze(values), readAt: now() };
      return all.values;
    },
  };
}

/** The values to redact in one call: its connection secrets and every service secret. */
export function redactableSecrets(connection: Readonly<Record<string, string>>, service: ServiceSecrets | undefined): Readonly<Record<string, string>> {
  if (!service) return connection;
  const values = service.values();
  return Object.keys(values).length === 0 ? connection : { ...values, ...connection };
}
