import type { LogLevel } from "../log/logger.js";
import { CodedError } from "../errors/coded-error.js";
import { DEFAULT_STORAGE_CONFIG, storageConfigProblems, type StorageConfig } from "./storage-config.js";
import { CONFIG_FILE_ENV, SETTINGS } from "./settings.js";

/** TLS material, as PEM text. */
export interface TlsConfig {
  readonly key: string;
  readonly cert: string;
  /**
   * CA certificates (PEM) that client certificates must chain to. When set, the server asks every client for
   * a certificate and refuses the TLS handshake without one from this CA (mutual TLS).
   */
  readonly clientCa?: string;
}

/** Limits of one task type's connector calls; absent fields fall back to the connector defaults. */
export interface ConnectorLimit {
  /** Calls of this task type running at once; more get RESOURCE_EXHAUSTED. 0: no limit. */
  readonly maxConcurrency?: number;
  /** A call still running after this long is aborted and answered DEADLINE_EXCEEDED. 0: no limit. */
  readonly timeoutMs?: number;
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
  /**
   * Largest resource metadata CreateTask may return. The executor stores it in the TaskAction object (etcd
   * holds about 1.5 MiB for the whole object) and resends it on every poll (docs/flyte-executor.md §5).
   */
  readonly maxResourceMetaBytes: number;
  /** Object stores for outputs.pb, offloaded literals and connector files (docs/storage.md). */
  readonly storage: StorageConfig;
  /** How long in-flight calls may run on after SIGTERM before they are cancelled. */
  readonly drainTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** Files or packages that register connectors (see the README, "Writing a connector"). */
  readonly modules: readonly string[];
  /** Register the built-in connectors (sleep, echo, postgres, http_job). */
  readonly builtins: boolean;
  /** Serve the status dashboard at `/` (docs/dashboard.md); off with `--no-dashboard`. */
  readonly dashboard: boolean;
  /**
   * Serve unary gRPC calls straight from node:http2 rather than through connect (same services, same
   * limits, same answers; docs/operations.md). Off with `--no-grpc-fast-path`, for comparison or as an
   * escape hatch.
   */
  readonly grpcFastPath: boolean;

  /** Serve Prometheus metrics (and plain-HTTP health endpoints) on their own port. */
  readonly metricsEnabled: boolean;
  /** Interface of the metrics port; defaults to `host`. */
  readonly metricsHost: string;
  /** Metrics port; 9090 as the Python service's `--prometheus_port`. 0 picks a free port. */
  readonly metricsPort: number;

  /**
   * Bearer tokens accepted in `Authorization` on every service except `grpc.health.v1.Health`. Empty: no
   * token is asked for. Secret: never logged. Several allow a rotation without downtime.
   */
  readonly authTokens: readonly string[];

  /** Calls in flight across all connectors; beyond it new calls get RESOURCE_EXHAUSTED. 0: no limit. */
  readonly maxConcurrentCalls: number;
  /** V8 heap in use above which new calls get UNAVAILABLE until it falls back. 0: 90 % of the heap limit. */
  readonly maxHeapUsedBytes: number;
  /** Default concurrent calls per task type (see {@link ConnectorLimit}). 0: no limit. */
  readonly connectorMaxConcurrency: number;
  /** Default time limit of one connector call. 0: only the caller's deadline. */
  readonly connectorTimeoutMs: number;
  /** Per task type overrides of the two defaults above. */
  readonly connectorLimits: Readonly<Record<string, ConnectorLimit>>;

  /** Open TCP connections; more are closed at once. 0: no limit. */
  readonly maxConnections: number;
  /** How long a new connection may take to send its first bytes (cleartext) or finish the TLS handshake. */
  readonly handshakeTimeoutMs: number;
  /** HTTP/1.1: how long a client may take to send a request's headers (slowloris). */
  readonly headersTimeoutMs: number;
  /** How long a client may take to send a whole request, headers and body (HTTP/1.1 and HTTP/2). */
  readonly requestTimeoutMs: number;
  /** HTTP/1.1: idle keep-alive connections are closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** HTTP/2: sessions with no stream for this long are closed with GOAWAY. 0: kept open. */
  readonly http2IdleTimeoutMs: number;
  /** HTTP/2: streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly http2MaxConcurrentStreams: number;
  /** HTTP/2: streams one connection may open over its life; then GOAWAY and the client reconnects. 0: no limit. */
  readonly http2MaxStreamsPerConnection: number;
  /** HTTP/2: new streams one connection may open per second; more: GOAWAY ENHANCE_YOUR_CALM, connection cut. 0: no limit. */
  readonly http2MaxStreamsPerSecond: number;
  /**
   * HTTP/2: streams a connection's client may reset within a second of opening them and before they were
   * answered, once they are also over half of its streams; more: the connection is cut (rapid reset). 0: no limit.
   */
  readonly http2MaxPrematureResets: number;
  /** Health Watch streams open at once across all connections; more get RESOURCE_EXHAUSTED. 0: no limit. */
  readonly maxWatchStreams: number;
  /**
   * Event-loop delay above which the service reports NOT_SERVING (gRPC health and `/readyz`) until it falls
   * back: a stalled process cannot take connector calls. 0: not watched.
   */
  readonly readinessMaxEventLoopDelayMs: number;

  /** Request bodies of at least this many bytes count as large (see `maxConcurrentLargeRequests`). */
  readonly largeRequestBytes: number;
  /** Large request bodies taken at once; more are refused with RESOURCE_EXHAUSTED before they are read. 0: no limit. */
  readonly maxConcurrentLargeRequests: number;
  /**
   * The share of the event loop, in percent, that large requests' decoding and conversion take while other
   * work waits: after each slice of that work the loop is left to other calls for as long again at 50.
   * 100: slices follow each other with one event-loop turn between them (docs/operations.md, "Large requests").
   */
  readonly largeRequestCpuPercent: number;
  /**
   * Connector calls with a large request run on a worker thread, off the event loop, when the service knows
   * where its connectors came from (`flyte-connect serve` does). false: on the event loop, in slices
   * (docs/operations.md, "Large requests").
   */
  readonly largeRequestWorker: boolean;

  /** A directory of secret files, one per secret, as Kubernetes mounts a Secret. Empty: none (docs/secrets.md). */
  readonly secretsDir: string;
  /** Environment variables with this prefix are secrets (docs/secrets.md). Empty: none. */
  readonly secretsEnvPrefix: string;
  /** How long a secret file's contents are reused before the file is read again. */
  readonly secretsCacheTtlMs: number;
}

const MiB = 1024 * 1024;

/** The defaults, applied under whatever is given. */
export const DEFAULT_CONFIG: Config = Object.freeze({
  host: "0.0.0.0",
  port: 8000,
  corsOrigins: Object.freeze([]) as readonly string[],
  maxMessageBytes: 4 * MiB,
  maxResponseBytes: 4 * MiB,
  maxResourceMetaBytes: 64 * 1024,
  storage: DEFAULT_STORAGE_CONFIG,
  drainTimeoutMs: 20_000,
  logLevel: "info" as LogLevel,
  modules: Object.freeze([]) as readonly string[],
  builtins: true,
  dashboard: true,
  grpcFastPath: true,
  metricsEnabled: true,
  metricsHost: "0.0.0.0",
  metricsPort: 9090,
  authTokens: Object.freeze([]) as readonly string[],
  maxConcurrentCalls: 2048,
  maxHeapUsedBytes: 0,
  connectorMaxConcurrency: 0,
  connectorTimeoutMs: 60_000,
  connectorLimits: Object.freeze({}),
  maxConnections: 10_000,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 72_000,
  http2IdleTimeoutMs: 300_000,
  http2MaxConcurrentStreams: 1000,
  http2MaxStreamsPerConnection: 100_000,
  http2MaxStreamsPerSecond: 50_000,
  http2MaxPrematureResets: 20,
  maxWatchStreams: 100,
  readinessMaxEventLoopDelayMs: 2000,
  largeRequestBytes: MiB,
  maxConcurrentLargeRequests: 2,
  largeRequestCpuPercent: 50,
  largeRequestWorker: true,
  secretsDir: "",
  secretsEnvPrefix: "FLYTE_CONNECT_SECRET_",
  secretsCacheTtlMs: 5000,
});

/** What {@link parseConfig} takes: any settings, storage ones included, each falling back to its default. */
export type ConfigInput = Partial<Omit<Config, "storage">> & { readonly storage?: Partial<StorageConfig> };

/** A configuration that does not validate; `problems` lists every problem found, not just the first. */
export class ConfigError extends CodedError {
  static override readonly code = "FC_CONFIG_INVALID";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

const LOG_LEVELS: readonly string[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/**
 * Validates a partial configuration, fills in defaults and freezes the result. Throws {@link ConfigError}
 * listing all problems at once.
 */
export function parseConfig(input: ConfigInput = {}): Config {
  const problems: string[] = [];
  const given = stripUndefined(input);
  // The metrics port listens where the service does unless told otherwise.
  const merged = {
    ...DEFAULT_CONFIG,
    ...given,
    storage: { ...DEFAULT_STORAGE_CONFIG, ...stripUndefined(given.storage ?? {}) },
    metricsHost: given.metricsHost ?? given.host ?? DEFAULT_CONFIG.metricsHost,
  };
  const int = (name: keyof Config, min: number, max: number) => {
    const v = merged[name];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  };
  if (typeof merged.host !== "string" || merged.host === "") problems.push("host must be a non-empty string");
  int("port", 0, 65535);
  int("maxMessageBytes", 1024, 2 ** 31 - 1);
  int("maxResponseBytes", 1024, 2 ** 31 - 1);
  int("maxResourceMetaBytes", 256, 2 ** 31 - 1);
  problems.push(...storageConfigProblems(merged.storage));
  int("drainTimeoutMs", 0, 3_600_000);
  if (!LOG_LEVELS.includes(merged.logLevel)) problems.push(`logLevel must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(merged.logLevel)}`);
  if (!Array.isArray(merged.corsOrigins) || merged.corsOrigins.some((o) => typeof o !== "string" || o === ""))
    problems.push("corsOrigins must be a list of origins");
  if (!Array.isArray(merged.modules) || merged.modules.some((m) => typeof m !== "string" || m === ""))
    problems.push("modules must be a list of paths or package names");
  if (merged.tls !== undefined) {
    if (typeof merged.tls.key !== "string" || !merged.tls.key.includes("PRIVATE KEY")) problems.push("tls.key must be a PEM private key");
    if (typeof merged.tls.cert !== "string" || !merged.tls.cert.includes("CERTIFICATE")) problems.push("tls.cert must be a PEM certificate");
  }
  if (typeof merged.builtins !== "boolean") problems.push("builtins must be true or false");
  if (typeof merged.dashboard !== "boolean") problems.push("dashboard must be true or false");
  if (typeof merged.grpcFastPath !== "boolean") problems.push("grpcFastPath must be true or false");
  if (typeof merged.largeRequestWorker !== "boolean") problems.push("largeRequestWorker must be true or false");
  operationsProblems(merged, problems, int);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...merged,
    corsOrigins: Object.freeze([...merged.corsOrigins]),
    modules: Object.freeze([...merged.modules]),
    storage: Object.freeze({ ...merged.storage }),
    tls: merged.tls ? Object.freeze({ ...merged.tls }) : undefined,
    authTokens: Object.freeze([...merged.authTokens]),
    connectorLimits: Object.freeze(Object.fromEntries(Object.entries(merged.connectorLimits).map(([type, limit]) => [type, Object.freeze({ ...limit })]))),
  });
}

const MIN_TOKEN_LENGTH = 16;

/**
 * Problems of the operational settings (metrics, auth, limits, timeouts). Messages never quote a token or
 * a key: a configuration error is printed, and the values are secrets.
 */
function operationsProblems(c: Config, problems: string[], int: (name: keyof Config, min: number, max: number) => void): void {
  if (typeof c.metricsEnabled !== "boolean") problems.push("metricsEnabled must be true or false");
  if (typeof c.metricsHost !== "string" || c.metricsHost === "") problems.push("metricsHost must be a non-empty string");
  int("metricsPort", 0, 65535);
  if (c.metricsEnabled === true && c.metricsPort !== 0 && c.metricsPort === c.port && c.metricsHost === c.host) {
    problems.push(`metricsPort must differ from port (both are ${c.port})`);
  }
  if (!Array.isArray(c.authTokens)) {
    problems.push("authTokens must be a list of tokens");
  } else {
    c.authTokens.forEach((t, i) => {
      if (typeof t !== "string" || t.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(t)) {
        problems.push(`auth token ${i + 1} must be at least ${MIN_TOKEN_LENGTH} printable ASCII characters without spaces (its value is not shown)`);
      }
    });
  }
  int("maxConcurrentCalls", 0, 1_000_000);
  int("maxHeapUsedBytes", 0, Number.MAX_SAFE_INTEGER);
  int("connectorMaxConcurrency", 0, 1_000_000);
  int("connectorTimeoutMs", 0, 86_400_000);
  if (typeof c.connectorLimits !== "object" || c.connectorLimits === null || Array.isArray(c.connectorLimits)) {
    problems.push("connectorLimits must map task types to { maxConcurrency, timeoutMs }");
  } else {
    for (const [type, limit] of Object.entries(c.connectorLimits)) {
      if (typeof limit !== "object" || limit === null || Array.isArray(limit)) {
        problems.push(`connectorLimits.${type} must be an object with maxConcurrency and/or timeoutMs`);
        continue;
      }
      for (const key of Object.keys(limit)) {
        if (key !== "maxConcurrency" && key !== "timeoutMs") problems.push(`connectorLimits.${type}.${key} is not a setting (maxConcurrency, timeoutMs)`);
      }
      const check = (key: "maxConcurrency" | "timeoutMs", max: number) => {
        const v = limit[key];
        if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max)) {
          problems.push(`connectorLimits.${type}.${key} must be an integer from 0 to ${max}, got ${JSON.stringify(v)}`);
        }
      };
      check("maxConcurrency", 1_000_000);
      check("timeoutMs", 86_400_000);
    }
  }
  int("maxConnections", 0, 1_000_000);
  int("handshakeTimeoutMs", 100, 600_000);
  int("headersTimeoutMs", 100, 600_000);
  int("requestTimeoutMs", 100, 3_600_000);
  int("keepAliveTimeoutMs", 100, 3_600_000);
  int("http2IdleTimeoutMs", 0, 86_400_000);
  int("http2MaxConcurrentStreams", 1, 2 ** 31 - 1);
  int("http2MaxStreamsPerConnection", 0, 2 ** 31 - 1);
  int("http2MaxStreamsPerSecond", 0, 1_000_000);
  int("http2MaxPrematureResets", 0, 2 ** 31 - 1);
  int("maxWatchStreams", 0, 1_000_000);
  int("readinessMaxEventLoopDelayMs", 0, 600_000);
  int("largeRequestBytes", 1024, 2 ** 31 - 1);
  int("maxConcurrentLargeRequests", 0, 1_000_000);
  int("largeRequestCpuPercent", 1, 100);
  if (typeof c.secretsDir !== "string") problems.push("secretsDir must be a directory path or empty");
  if (typeof c.secretsEnvPrefix !== "string" || !/^[A-Za-z0-9_]*$/.test(c.secretsEnvPrefix))
    problems.push("secretsEnvPrefix must be letters, digits and underscores, or empty");
  else if (c.secretsEnvPrefix !== "" && [CONFIG_FILE_ENV, ...SETTINGS.map((s) => s.env)].some((name) => name.startsWith(c.secretsEnvPrefix))) {
    // A prefix that covers the service's own settings would make them secrets.
    problems.push(`secretsEnvPrefix ${JSON.stringify(c.secretsEnvPrefix)} covers the service's own settings; use FLYTE_CONNECT_SECRET_ or another prefix`);
  }
  int("secretsCacheTtlMs", 0, 3_600_000);
  if (typeof c.headersTimeoutMs === "number" && typeof c.requestTimeoutMs === "number" && c.headersTimeoutMs > c.requestTimeoutMs) {
    problems.push(`headersTimeoutMs (${c.headersTimeoutMs}) must not exceed requestTimeoutMs (${c.requestTimeoutMs})`);
  }
  if (c.tls?.clientCa !== undefined && (typeof c.tls.clientCa !== "string" || !c.tls.clientCa.includes("CERTIFICATE"))) {
    problems.push("tls.clientCa must be PEM CA certificates");
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
