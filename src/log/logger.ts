import { pino, type Logger as PinoLogger, type LevelWithSilent } from "pino";

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
 * Paths that may carry secret values. pino replaces them before a line is written, wherever a caller
 * put them; the connector service also never logs connection values in the first place.
 */
export const REDACTED_PATHS: readonly string[] = [
  "secrets",
  "*.secrets",
  "connection",
  "*.connection",
  "password",
  "*.password",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
];

/** Creates the service's root logger: one JSON object per line, secret paths redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base: PinoLogger = pino(
    {
      level: options.level ?? "info",
      base: { service: "flyte-connect" },
      redact: { paths: [...REDACTED_PATHS], censor: "[REDACTED]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
  return base;
}

/** A logger that drops everything; the default for library use and unit tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
