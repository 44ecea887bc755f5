/** What a secret value is replaced with wherever text leaves the service. */
export const REDACTED = "[REDACTED]";

/**
 * Replaces every secret value in a text. Connectors build messages from what their systems say, and those
 * sometimes echo a password or token back; this keeps them out of RPC errors, resource messages and logs.
 * Values shorter than 4 characters are left alone: replacing "1" everywhere would mangle the text and
 * protect nothing.
 */
export function redactSecrets(text: string, secrets: Readonly<Record<string, string>> | undefined): string {
  if (!secrets) return text;
  let out = text;
  for (const value of Object.values(secrets)) {
    if (value.length >= 4 && out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return out;
}
