import type { Logger } from "../../log/logger.js";
import { REDACTED, redactSecrets } from "./redact.js";

/** Nesting followed when cleaning logged objects; deeper values are replaced whole. */
const MAX_DEPTH = 6;

/**
 * A logger that replaces a call's secret values wherever they appear in what is logged: the message, any
 * string field at any depth, an error's message and stack. pino's `redact` paths catch fields named like
 * secrets (`password`, `token`…); this catches the values themselves, such as a connector logging
 * `connecting with ${url}` where the URL embeds a password. Children stay redacting.
 */
export function withSecretsRedacted(log: Logger, secrets: Readonly<Record<string, string>>): Logger {
  if (!Object.values(secrets).some((v) => v.length >= 4)) return log;
  const text = (s: string) => redactSecrets(s, secrets);
  const clean = (value: unknown, depth: number): unknown => {
    if (typeof value === "string") return text(value);
    if (value === null || typeof value !== "object") return value;
    if (depth >= MAX_DEPTH) return REDACTED;
    if (value instanceof Error) return { type: value.name, message: text(value.message), stack: value.stack === undefined ? undefined : text(value.stack) };
    if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
    if (value instanceof Date) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v, depth + 1)]));
  };
  const method =
    (write: (obj: object | string, msg?: string) => void) =>
    (obj: object | string, msg?: string): void => {
      const first = clean(obj, 0) as object | string;
      if (msg === undefined) write(first);
      else write(first, text(msg));
    };
  return {
    debug: method(log.debug.bind(log)),
    info: method(log.info.bind(log)),
    warn: method(log.warn.bind(log)),
    error: method(log.error.bind(log)),
    child: (bindings) => withSecretsRedacted(log.child(clean(bindings, 0) as Record<string, unknown>), secrets),
  };
}
