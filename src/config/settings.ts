import type { ParseArgsConfig } from "node:util";

/**
 * What a user can set, and where: every setting has a key (its name in the config file), an environment
 * variable and, for most, a command-line flag. One table, so the three sources cannot drift apart.
 */

/** How a setting's text becomes a value. `path` names a file whose contents the configuration needs. */
export type SettingKind = "int" | "string" | "bool" | "list" | "path" | "json" | "secret";

/** A setting as the user writes it; files are named by path, and read by `loadConfig`. */
export interface Settings {
  host?: string;
  port?: number;
  modules?: string[];
  builtins?: boolean;
  dashboard?: boolean;
  grpcFastPath?: boolean;
  tlsKeyFile?: string;
  tlsCertFile?: string;
  tlsClientCaFile?: string;
  corsOrigins?: string[];
  maxMessageBytes?: number;
  maxResponseBytes?: number;
  maxResourceMetaBytes?: number;
  s3Endpoint?: string;
  s3ForcePathStyle?: boolean;
  s3Region?: string;
  gcsEndpoint?: string;
  azureAccount?: string;
  maxOffloadedLiteralBytes?: number;
  drainTimeoutMs?: number;
  logLevel?: string;
  metricsEnabled?: boolean;
  metricsHost?: string;
  metricsPort?: number;
  authTokenFile?: string;
  /** Environment only: a token in a config file or on a command line is too easy to leak. */
  authToken?: string;
  maxConcurrentCalls?: number;
  maxHeapUsedBytes?: number;
  connectorMaxConcurrency?: number;
  connectorTimeoutMs?: number;
  connectorLimits?: unknown;
  maxConnections?: number;
  handshakeTimeoutMs?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  http2IdleTimeoutMs?: number;
  http2MaxConcurrentStreams?: number;
  http2MaxStreamsPerConnection?: number;
  http2MaxStreamsPerSecond?: number;
  http2MaxPrematureResets?: number;
  maxWatchStreams?: number;
  readinessMaxEventLoopDelayMs?: number;
  largeRequestBytes?: number;
  maxConcurrentLargeRequests?: number;
  largeRequestCpuPercent?: number;
  largeRequestWorker?: boolean;
  secretsDir?: string;
  secretsEnvPrefix?: string;
  secretsCacheTtlMs?: number;
}

export interface Setting {
  readonly key: keyof Settings;
  readonly kind: SettingKind;
  readonly env: string;
  /** The flag without `--`; absent for settings that only a file or the environment may give. */
  readonly flag?: string;
  /** A boolean flag that sets the value to false, such as `--no-builtins`. */
  readonly negatedFlag?: boolean;
  /** Other spellings of the flag, such as the Python service's `--prometheus_port`. */
  readonly flagAliases?: readonly string[];
}

const E = "FLYTE_CONNECT_";

export const SETTINGS: readonly Setting[] = [
  { key: "host", kind: "string", env: `${E}HOST`, flag: "host" },
  { key: "port", kind: "int", env: `${E}PORT`, flag: "port" },
  { key: "modules", kind: "list", env: `${E}MODULES`, flag: "modules" },
  { key: "builtins", kind: "bool", env: `${E}BUILTINS`, flag: "no-builtins", negatedFlag: true },
  { key: "dashboard", kind: "bool", env: `${E}DASHBOARD`, flag: "no-dashboard", negatedFlag: true },
  { key: "grpcFastPath", kind: "bool", env: `${E}GRPC_FAST_PATH`, flag: "no-grpc-fast-path", negatedFlag: true },
  { key: "tlsKeyFile", kind: "path", env: `${E}TLS_KEY_FILE`, flag: "tls-key" },
  { key: "tlsCertFile", kind: "path", env: `${E}TLS_CERT_FILE`, flag: "tls-cert" },
  { key: "tlsClientCaFile", kind: "path", env: `${E}TLS_CLIENT_CA_FILE`, flag: "tls-client-ca" },
  { key: "corsOrigins", kind: "list", env: `${E}CORS_ORIGINS`, flag: "cors-origin" },
  { key: "maxMessageBytes", kind: "int", env: `${E}MAX_MESSAGE_BYTES`, flag: "max-message-bytes" },
  { key: "maxResponseBytes", kind: "int", env: `${E}MAX_RESPONSE_BYTES`, flag: "max-response-bytes" },
  { key: "maxResourceMetaBytes", kind: "int", env: `${E}MAX_RESOURCE_META_BYTES`, flag: "max-resource-meta-bytes" },
  { key: "s3Endpoint", kind: "string", env: `${E}S3_ENDPOINT`, flag: "s3-endpoint" },
  { key: "s3ForcePathStyle", kind: "bool", env: `${E}S3_FORCE_PATH_STYLE`, flag: "s3-force-path-style" },
  { key: "s3Region", kind: "string", env: `${E}S3_REGION`, flag: "s3-region" },
  { key: "gcsEndpoint", kind: "string", env: `${E}GCS_ENDPOINT`, flag: "gcs-endpoint" },
  { key: "azureAccount", kind: "string", env: `${E}AZURE_ACCOUNT`, flag: "azure-account" },
  { key: "maxOffloadedLiteralBytes", kind: "int", env: `${E}MAX_OFFLOADED_LITERAL_BYTES`, flag: "max-offloaded-literal-bytes" },
  { key: "drainTimeoutMs", kind: "int", env: `${E}DRAIN_TIMEOUT_MS`, flag: "drain-timeout-ms" },
  { key: "logLevel", kind: "string", env: `${E}LOG_LEVEL`, flag: "log-level" },
  { key: "metricsEnabled", kind: "bool", env: `${E}METRICS`, flag: "no-metrics", negatedFlag: true },
  { key: "metricsHost", kind: "string", env: `${E}METRICS_HOST`, flag: "metrics-host" },
  { key: "metricsPort", kind: "int", env: `${E}METRICS_PORT`, flag: "metrics-port", flagAliases: ["prometheus_port"] },
  { key: "authTokenFile", kind: "path", env: `${E}AUTH_TOKEN_FILE`, flag: "auth-token-file" },
  { key: "authToken", kind: "secret", env: `${E}AUTH_TOKEN` },
  { key: "maxConcurrentCalls", kind: "int", env: `${E}MAX_CONCURRENT_CALLS`, flag: "max-concurrent-calls" },
  { key: "maxHeapUsedBytes", kind: "int", env: `${E}MAX_HEAP_USED_BYTES`, flag: "max-heap-used-bytes" },
  { key: "connectorMaxConcurrency", kind: "int", env: `${E}CONNECTOR_MAX_CONCURRENCY`, flag: "connector-max-concurrency" },
  { key: "connectorTimeoutMs", kind: "int", env: `${E}CONNECTOR_TIMEOUT_MS`, flag: "connector-timeout-ms" },
  { key: "connectorLimits", kind: "json", env: `${E}CONNECTOR_LIMITS` },
  { key: "maxConnections", kind: "int", env: `${E}MAX_CONNECTIONS`, flag: "max-connections" },
  { key: "handshakeTimeoutMs", kind: "int", env: `${E}HANDSHAKE_TIMEOUT_MS`, flag: "handshake-timeout-ms" },
  { key: "headersTimeoutMs", kind: "int", env: `${E}HEADERS_TIMEOUT_MS`, flag: "headers-timeout-ms" },
  { key: "requestTimeoutMs", kind: "int", env: `${E}REQUEST_TIMEOUT_MS`, flag: "request-timeout-ms" },
  { key: "keepAliveTimeoutMs", kind: "int", env: `${E}KEEP_ALIVE_TIMEOUT_MS`, flag: "keep-alive-timeout-ms" },
  { key: "http2IdleTimeoutMs", kind: "int", env: `${E}HTTP2_IDLE_TIMEOUT_MS`, flag: "http2-idle-timeout-ms" },
  { key: "http2MaxConcurrentStreams", kind: "int", env: `${E}HTTP2_MAX_CONCURRENT_STREAMS`, flag: "http2-max-concurrent-streams" },
  { key: "http2MaxStreamsPerConnection", kind: "int", env: `${E}HTTP2_MAX_STREAMS_PER_CONNECTION`, flag: "http2-max-streams-per-connection" },
  { key: "http2MaxStreamsPerSecond", kind: "int", env: `${E}HTTP2_MAX_STREAMS_PER_SECOND`, flag: "http2-max-streams-per-second" },
  { key: "http2MaxPrematureResets", kind: "int", env: `${E}HTTP2_MAX_PREMATURE_RESETS`, flag: "http2-max-premature-resets" },
  { key: "maxWatchStreams", kind: "int", env: `${E}MAX_WATCH_STREAMS`, flag: "max-watch-streams" },
  { key: "readinessMaxEventLoopDelayMs", kind: "int", env: `${E}READINESS_MAX_EVENT_LOOP_DELAY_MS`, flag: "readiness-max-event-loop-delay-ms" },
  { key: "largeRequestBytes", kind: "int", env: `${E}LARGE_REQUEST_BYTES`, flag: "large-request-bytes" },
  { key: "maxConcurrentLargeRequests", kind: "int", env: `${E}MAX_CONCURRENT_LARGE_REQUESTS`, flag: "max-concurrent-large-requests" },
  { key: "largeRequestCpuPercent", kind: "int", env: `${E}LARGE_REQUEST_CPU_PERCENT`, flag: "large-request-cpu-percent" },
  { key: "largeRequestWorker", kind: "bool", env: `${E}LARGE_REQUEST_WORKER`, flag: "no-large-request-worker", negatedFlag: true },
  { key: "secretsDir", kind: "string", env: `${E}SECRETS_DIR`, flag: "secrets-dir" },
  { key: "secretsEnvPrefix", kind: "string", env: `${E}SECRETS_ENV_PREFIX`, flag: "secrets-env-prefix" },
  { key: "secretsCacheTtlMs", kind: "int", env: `${E}SECRETS_CACHE_TTL_MS`, flag: "secrets-cache-ttl-ms" },
];

/** The flag naming a JSON config file, and its environment variable. */
export const CONFIG_FILE_FLAG = "config";
export const CONFIG_FILE_ENV = `${E}CONFIG`;

/** Options for `util.parseArgs` covering every setting's flag. */
export function settingsParseArgsOptions(): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = { [CONFIG_FILE_FLAG]: { type: "string" } };
  for (const s of SETTINGS) {
    if (s.flag === undefined) continue;
    const option =
      s.kind === "bool" ? { type: "boolean" as const } : s.kind === "list" ? { type: "string" as const, multiple: true } : { type: "string" as const };
    options[s.flag] = option;
    for (const alias of s.flagAliases ?? []) options[alias] = option;
  }
  return options;
}

/** A value from text, or the reason it is not one. The reason never quotes a secret. */
export type Converted = { ok: true; value: unknown } | { ok: false; problem: string };

const ok = (value: unknown): Converted => ({ ok: true, value });
const bad = (problem: string): Converted => ({ ok: false, problem });

/** Converts a flag's or an environment variable's text to a setting's value. */
export function settingFromText(setting: Setting, text: string | readonly string[]): Converted {
  const texts = typeof text === "string" ? [text] : text;
  const one = texts.at(-1) ?? "";
  switch (setting.kind) {
    case "int":
      return /^\s*-?\d+\s*$/.test(one) ? ok(Number(one)) : bad(`must be a whole number, got ${JSON.stringify(one)}`);
    case "bool": {
      const v = one.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(v)) return ok(true);
      if (["false", "0", "no", "off"].includes(v)) return ok(false);
      return bad(`must be true or false, got ${JSON.stringify(one)}`);
    }
    case "list":
      return ok(
        texts
          .flatMap((t) => t.split(","))
          .map((t) => t.trim())
          .filter((t) => t !== ""),
      );
    case "json":
      try {
        return ok(JSON.parse(one));
      } catch (e) {
        return bad(`must be JSON: ${(e as Error).message}`);
      }
    case "secret":
      return one.trim() === "" ? bad("is set but empty") : ok(one.trim());
    case "path":
      return one.trim() === "" ? bad("must be a file path") : ok(one);
    case "string":
      return ok(one);
  }
}

/** Checks a config file value's JSON type against a setting's kind. */
export function settingFromJson(setting: Setting, value: unknown): Converted {
  switch (setting.kind) {
    case "int":
      return typeof value === "number" ? ok(value) : bad(`must be a number, got ${JSON.stringify(value)}`);
    case "bool":
      return typeof value === "boolean" ? ok(value) : bad(`must be true or false, got ${JSON.stringify(value)}`);
    case "list":
      return Array.isArray(value) && value.every((v) => typeof v === "string") ? ok(value) : bad("must be a list of strings");
    case "json":
      return ok(value);
    case "secret":
      return bad(`may not be written in a config file: use ${SETTINGS.find((s) => s.key === "authTokenFile")!.key} or the environment variable ${setting.env}`);
    case "path":
    case "string":
      return typeof value === "string" && value !== "" ? ok(value) : bad(`must be a non-empty string, got ${JSON.stringify(value)}`);
  }
}
