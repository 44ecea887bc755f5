import { pino, type Logger as PinoLogger, type LevelWithSilent } from "pino";
import { isoTimestamp } from "./iso-timestamp.js";

/**
 * The logging surface the framework hands to connectors and services. It is pino's, narrowed to what a
 * connector needs, so that authors do not depend on pino's types.
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = LevelWithSilent;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level; "silent" turns logging off. Default "info". */
  readonly level?: LogLevel;
  /** Where lines go; default standard output. Tests pass a stream to read the lines back. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Field names that may carry secret values. Wherever a caller put one, at the top of a log line or up to two
 * objects deep (`connection`, `err.secrets`, `request.headers.authorization`), its value is replaced before
 * the line is written; the connector service also never logs connection values in the first place.
 */
export const REDACTED_KEYS: readonly string[] = ["secrets", "connection", "password", "token", "authorization"];

const SECRET_KEYS: ReadonlySet<string> = new Set(REDACTED_KEYS);
const CENSOR = "[REDACTED]";
const MAX_REDACT_DEPTH = 2;

/**
 * `obj` with every secret-named field replaced, copied only where something changed: most lines (one per
 * RPC) have none, and walking a handful of keys costs far less than pino's generic path redaction.
 */
function redactFields<T extends Record<string, unknown>>(obj: T, depth = 0): T {
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const value = obj[key];
    let replaced: unknown = value;
    if (SECRET_KEYS.has(key)) replaced = CENSOR;
    else if (depth < MAX_REDACT_DEPTH && value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Error)) {
      replaced = redactFields(value as Record<string, unknown>, depth + 1);
    }
    if (replaced !== value) {
      out ??= { ...obj };
      out[key] = replaced;
    }
  }
  return (out ?? obj) as T;
}

/**
 * Lines are gathered and written in chunks of at least this many bytes, and at least every
 * {@link LOG_FLUSH_MS}: one write per line (one log line per RPC) cost more than the line itself. Whatever is
 * gathered is written at exit (pino flushes its destination then), so a crash loses no line that was logged.
 */
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_MS = 200;

/** Creates the service's root logger: one JSON object per line, secret-named fields redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base: PinoLogger = pino(
    {
      level: options.level ?? "info",
      base: { service: "flyte-connect" },
      formatters: { log: (obj) => redactFields(obj), bindings: (bindings) => redactFields(bindings) },
      timestamp: isoTimestamp,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS }),
  );
  return base;
}

/** A logger that drops everything; the default for library use and unit tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** The level a logger writes from: a worker thread's logger is made to match its parent's. */
export function levelOf(log: Logger): LogLevel {
  return ((log as Partial<PinoLogger>).level as LogLevel | undefined) ?? "info";
}

/** Writes out what the logger has gathered; a worker thread does this before it ends. */
export function flushLogger(log: Logger): void {
  (log as Partial<PinoLogger>).flush?.();
}
