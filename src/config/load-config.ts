import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, parseConfig, type Config, type ConfigInput } from "./config.js";
import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, SETTINGS, settingFromJson, settingFromText, type Setting, type Settings } from "./settings.js";

/** Where the configuration comes from. Flags win over the environment, which wins over the file. */
export interface ConfigSources {
  /** `util.parseArgs` values keyed by flag name (see `settingsParseArgsOptions`). */
  readonly flags?: Readonly<Record<string, string | boolean | readonly (string | boolean)[] | undefined>>;
  /** The environment; `process.env` when absent. Only `FLYTE_CONNECT_*` variables are read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Relative file paths resolve against this directory; default the working directory. */
  readonly cwd?: string;
}

/** Where a setting's value came from, for error messages. */
type Origin = string;

/**
 * Builds the configuration from flags, environment variables (`FLYTE_CONNECT_*`) and a JSON config file
 * (`--config` or `FLYTE_CONNECT_CONFIG`), over the defaults, reads the files it names (TLS material, bearer
 * tokens), and validates the result once. Every problem of every source is reported in one
 * {@link ConfigError}, each naming where the bad value came from.
 *
 * @example
 * loadConfig({ flags: { port: "8000" }, env: { FLYTE_CONNECT_METRICS_PORT: "9092" } })
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const cwd = sources.cwd ?? process.cwd();
  const problems: string[] = [];
  const settings: Settings = {};
  const origins = new Map<keyof Settings, Origin>();
  const set = (setting: Setting, value: unknown, origin: Origin) => {
    (settings as Record<string, unknown>)[setting.key] = value;
    origins.set(setting.key, origin);
  };

  // Lowest precedence first: each later source overwrites what an earlier one set.
  const file = (flags[CONFIG_FILE_FLAG] as string | undefined) ?? env[CONFIG_FILE_ENV];
  if (file !== undefined && file !== "") {
    for (const [key, value] of Object.entries(readConfigFile(resolve(cwd, file), problems))) {
      const setting = SETTINGS.find((s) => s.key === key);
      if (!setting) {
        problems.push(
          `${file}: unknown setting "${key}" (known: ${SETTINGS.filter((s) => s.kind !== "secret")
            .map((s) => s.key)
            .join(", ")})`,
        );
        continue;
      }
      const converted = settingFromJson(setting, value);
      if (converted.ok) set(setting, converted.value, `${file}: ${key}`);
      else problems.push(`${file}: ${key} ${converted.problem}`);
    }
  }
  for (const setting of SETTINGS) {
    const text = env[setting.env];
    if (text === undefined || (text === "" && setting.kind !== "string")) continue;
    const converted = settingFromText(setting, text);
    if (converted.ok) set(setting, converted.value, setting.env);
    else problems.push(`${setting.env} ${converted.problem}`);
  }
  for (const setting of SETTINGS) {
    for (const flag of [setting.flag, ...(setting.flagAliases ?? [])]) {
      const raw = flag === undefined ? undefined : flags[flag];
      if (raw === undefined || flag === undefined) continue;
      if (setting.negatedFlag) {
        if (raw === true) set(setting, false, `--${flag}`);
        continue;
      }
      // A plain boolean flag such as --s3-force-path-style: present means true.
      if (typeof raw === "boolean") {
        set(setting, raw, `--${flag}`);
        continue;
      }
      const converted = settingFromText(setting, raw as string | readonly string[]);
      if (converted.ok) set(setting, converted.value, `--${flag}`);
      else problems.push(`--${flag} ${converted.problem}`);
    }
  }

  const input = configInputFrom(settings, origins, cwd, problems);
  try {
    const config = parseConfig(input);
    if (problems.length > 0) throw new ConfigError(problems);
    return config;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const fromParse = e.problems.filter((p) => !problems.includes(p)).map((p) => withOrigin(p, origins));
    throw new ConfigError([...problems, ...fromParse]);
  }
}

function readConfigFile(path: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    problems.push(`config file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    problems.push(`config file ${path} is not valid JSON: ${(e as Error).message}`);
    return {};
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    problems.push(`config file ${path} must hold a JSON object of settings`);
    return {};
  }
  return parsed as Record<string, unknown>;
}

/** Turns settings into `parseConfig` input: reads the files they name, joins the token sources. */
function configInputFrom(s: Settings, origins: Map<keyof Settings, Origin>, cwd: string, problems: string[]): ConfigInput {
  const read = (key: keyof Settings): string | undefined => {
    const path = s[key] as string | undefined;
    if (path === undefined) return undefined;
    try {
      return readFileSync(resolve(cwd, path), "utf8");
    } catch (e) {
      problems.push(`${origins.get(key)}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      return undefined;
    }
  };
  const key = read("tlsKeyFile");
  const cert = read("tlsCertFile");
  const clientCa = read("tlsClientCaFile");
  if ((s.tlsKeyFile === undefined) !== (s.tlsCertFile === undefined)) problems.push("a TLS key and a TLS certificate go together (--tls-key and --tls-cert)");
  if (s.tlsClientCaFile !== undefined && s.tlsKeyFile === undefined)
    problems.push("a client CA (--tls-client-ca) needs TLS: give --tls-key and --tls-cert too");

  const tokens: string[] = [];
  if (s.authToken !== undefined)
    tokens.push(
      ...s.authToken
        .split(",")
        .map((t) => t.trim())
        .filter((t) => t !== ""),
    );
  const tokenFile = read("authTokenFile");
  if (tokenFile !== undefined) {
    // One token per line, so that a new token can be added before the old one is removed.
    const fromFile = tokenFile
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    if (fromFile.length === 0) problems.push(`${origins.get("authTokenFile")}: ${s.authTokenFile} holds no token`);
    tokens.push(...fromFile);
  }

  return {
    host: s.host,
    port: s.port,
    modules: s.modules,
    builtins: s.builtins,
    dashboard: s.dashboard,
    grpcFastPath: s.grpcFastPath,
    tls: key !== undefined && cert !== undefined ? { key, cert, ...(clientCa !== undefined ? { clientCa } : {}) } : undefined,
    corsOrigins: s.corsOrigins,
    maxMessageBytes: s.maxMessageBytes,
    maxResponseBytes: s.maxResponseBytes,
    maxResourceMetaBytes: s.maxResourceMetaBytes,
    storage: {
      s3Endpoint: s.s3Endpoint,
      s3ForcePathStyle: s.s3ForcePathStyle,
      s3Region: s.s3Region,
      gcsEndpoint: s.gcsEndpoint,
      azureAccount: s.azureAccount,
      maxOffloadedLiteralBytes: s.maxOffloadedLiteralBytes,
    },
    drainTimeoutMs: s.drainTimeoutMs,
    logLevel: s.logLevel as Config["logLevel"] | undefined,
    metricsEnabled: s.metricsEnabled,
    metricsHost: s.metricsHost,
    metricsPort: s.metricsPort,
    authTokens: tokens.length > 0 ? tokens : undefined,
    maxConcurrentCalls: s.maxConcurrentCalls,
    maxHeapUsedBytes: s.maxHeapUsedBytes,
    connectorMaxConcurrency: s.connectorMaxConcurrency,
    connectorTimeoutMs: s.connectorTimeoutMs,
    connectorLimits: s.connectorLimits as Config["connectorLimits"] | undefined,
    maxConnections: s.maxConnections,
    handshakeTimeoutMs: s.handshakeTimeoutMs,
    headersTimeoutMs: s.headersTimeoutMs,
    requestTimeoutMs: s.requestTimeoutMs,
    keepAliveTimeoutMs: s.keepAliveTimeoutMs,
    http2IdleTimeoutMs: s.http2IdleTimeoutMs,
    http2MaxConcurrentStreams: s.http2MaxConcurrentStreams,
    http2MaxStreamsPerConnection: s.http2MaxStreamsPerConnection,
    http2MaxStreamsPerSecond: s.http2MaxStreamsPerSecond,
    http2MaxPrematureResets: s.http2MaxPrematureResets,
    maxWatchStreams: s.maxWatchStreams,
    readinessMaxEventLoopDelayMs: s.readinessMaxEventLoopDelayMs,
    // A relative directory is the working directory's, as every other path setting.
    secretsDir: s.secretsDir === undefined || s.secretsDir === "" ? s.secretsDir : resolve(cwd, s.secretsDir),
    secretsEnvPrefix: s.secretsEnvPrefix,
    largeRequestBytes: s.largeRequestBytes,
    maxConcurrentLargeRequests: s.maxConcurrentLargeRequests,
    largeRequestCpuPercent: s.largeRequestCpuPercent,
    largeRequestWorker: s.largeRequestWorker,
    secretsCacheTtlMs: s.secretsCacheTtlMs,
  };
}

/** `parseConfig` names config keys; add which flag, variable or file line set the value. */
function withOrigin(problem: string, origins: Map<keyof Settings, Origin>): string {
  const name = /^([A-Za-z0-9.]+)/.exec(problem)?.[1];
  // The TLS material is checked as read ("tls.key"), but set by naming its file.
  const key = (name === "tls.key" ? "tlsKeyFile" : name === "tls.cert" ? "tlsCertFile" : name?.split(".")[0]) as keyof Settings | undefined;
  const origin = key === undefined ? undefined : origins.get(key);
  return origin === undefined ? problem : `${problem} (set by ${origin})`;
}
