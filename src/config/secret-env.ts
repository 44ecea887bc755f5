/**
 * The environment variables that hold the service's own secrets: those whose name starts with `prefix`
 * (`FLYTE_CONNECT_SECRET_` by default), read once at start-up. An empty prefix gives none. Kept in
 * src/config, the one place that reads `process.env`.
 */
export function secretEnvironment(prefix: string, env: Readonly<Record<string, string | undefined>> = process.env): Readonly<Record<string, string>> {
  if (prefix === "") return Object.freeze({});
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(prefix) && name.length > prefix.length && value !== undefined && value !== "") out[name] = value;
  }
  return Object.freeze(out);
}
