import { PLANTED_SECRET } from "../../fixtures/ops-connectors.js";

/** What a scan looked at, and where it found the planted secret. */
export interface SecretScan {
  /** Texts scanned, by kind (log line, metrics exposition, error message…). */
  readonly scanned: Readonly<Record<string, number>>;
  /** `kind: excerpt` for every text that holds the secret; empty when nothing leaked. */
  readonly hits: readonly string[];
}

/**
 * Collects everything the service produced in a suite (log lines, metrics expositions, error messages
 * clients received, process output) and searches it for the planted secret. Each suite reports its counts.
 */
export function createSecretScanner(secret: string = PLANTED_SECRET) {
  const texts: Array<{ kind: string; text: string }> = [];
  return {
    add(kind: string, text: string | readonly string[]): void {
      for (const t of typeof text === "string" ? [text] : text) texts.push({ kind, text: t });
    },
    scan(): SecretScan {
      const scanned: Record<string, number> = {};
      const hits: string[] = [];
      for (const { kind, text } of texts) {
        scanned[kind] = (scanned[kind] ?? 0) + 1;
        const at = text.indexOf(secret);
        if (at >= 0) hits.push(`${kind}: …${text.slice(Math.max(0, at - 80), at + secret.length + 20)}…`);
      }
      return { scanned, hits };
    },
  };
}
