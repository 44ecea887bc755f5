import type { LogLevel } from "../log/logger.js";

/** TLS material, as PEM text. */
export interface TlsConfig {
  readonly key: string;
  readonly cert: string;
}

/** Everything the service is configured with. Built once by {@link parseConfig}, frozen, never mutated. */
export interface Config {
  /** Interface to listen on. */
  readonly host: string;
  /** gRPC/gRPC-Web/Connect port; 8000 as the Python service and Flyte's Helm chart use. 0 picks a free port. */
  readonly port: number;
  /** Serve TLS with ALPN h2 and http/1.1 instead of cleartext. */
  readonly tls?: TlsConfig;
  /** Origins browsers may call from (gRPC-Web, Connect); "*" allows any. Empty: no CORS headers. */
  readonly corsOrigins: readonly string[];
  /** Largest request message accepted; inputs travel inline in CreateTask. */
  readonly maxMessageBytes: number;
  /** Largest GetTask response sent; grpc-go (the executor) receives at most 4 MiB. */
  readonly maxResponseBytes: number;
  /** How long in-flight calls may run on after SIGTERM before they are cancelled. */
  readonly drainTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** Files or packages that register connectors (see docs/writing-connectors.md). */
  readonly modules: readonly string[];
  /** Register the built-in connectors (sleep, echo, postgres, http_job). */
  readonly builtins: boolean;
  /** Serve the status dashboard at `/` (docs/dashboard.md); off with `--no-dashboard`. */
  readonly dashboard: boolean;
}

const MiB = 1024 * 1024;

/** The defaults, applied under whatever is given. */
export const DEFAULT_CONFIG: Config = Object.freeze({
  host: "0.0.0.0",
  port: 8000,
  corsOrigins: Object.freeze([]) as readonly string[],
  maxMessageBytes: 16 * MiB,
  maxResponseBytes: 4 * MiB,
  drainTimeoutMs: 20_000,
  logLevel: "info" as LogLevel,
  modules: Object.freeze([]) as readonly string[],
  builtins: true,
  dashboard: true,
});

/** A configuration that does not validate; `problems` lists every problem found, not just the first. */
export class ConfigError extends Error {
  readonly code = "FC_CONFIG_INVALID";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const LOG_LEVELS: readonly string[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/**
 * Validates a partial configuration, fills in defaults and freezes the result. Throws {@link ConfigError}
 * listing all problems at once.
 */
export function parseConfig(input: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const merged = { ...DEFAULT_CONFIG, ...stripUndefined(input) };
  const int = (name: keyof Config, min: number, max: number) => {
    const v = merged[name];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  };
  if (typeof merged.host !== "string" || merged.host === "") problems.push("host must be a non-empty string");
  int("port", 0, 65535);
  int("maxMessageBytes", 1024, 2 ** 31 - 1);
  int("maxResponseBytes", 1024, 2 ** 31 - 1);
  int("drainTimeoutMs", 0, 3_600_000);
  if (!LOG_LEVELS.includes(merged.logLevel)) problems.push(`logLevel must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(merged.logLevel)}`);
  if (!Array.isArray(merged.corsOrigins) || merged.corsOrigins.some((o) => typeof o !== "string" || o === "")) problems.push("corsOrigins must be a list of origins");
  if (!Array.isArray(merged.modules) || merged.modules.some((m) => typeof m !== "string" || m === "")) problems.push("modules must be a list of paths or package names");
  if (merged.tls !== undefined) {
    if (typeof merged.tls.key !== "string" || !merged.tls.key.includes("PRIVATE KEY")) problems.push("tls.key must be a PEM private key");
    if (typeof merged.tls.cert !== "string" || !merged.tls.cert.includes("CERTIFICATE")) problems.push("tls.cert must be a PEM certificate");
  }
  if (typeof merged.builtins !== "boolean") problems.push("builtins must be true or false");
  if (typeof merged.dashboard !== "boolean") problems.push("dashboard must be true or false");
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...merged,
    corsOrigins: Object.freeze([...merged.corsOrigins]),
    modules: Object.freeze([...merged.modules]),
    tls: merged.tls ? Object.freeze({ ...merged.tls }) : undefined,
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
