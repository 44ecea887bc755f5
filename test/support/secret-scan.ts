import { PLANTED_SECRET } from "../fixtures/ops-connectors.js";

/** What a scan looked at, and where it found the planted secret. */
export interface SecretScan {
  /** Texts scanned, by kind (log line, metrics exposition, error message…). */
  readonly scanned: Readonly<Record<string, number>>;
  /** `kind: excerpt` for every text that holds the secret; empty when nothing leaked. */
  readonly hits: readonly string[];
}

/**
 * Searches everything the service produced in a suite (log lines, metrics expositions, error messages
 * clients received, process output) for the planted secret, as it arrives: nothing is kept but the counts
 * and the hits, so a long load does not hold its output in memory. Each suite reports its counts.
 */
export function createSecretScanner(secret: string = PLANTED_SECRET) {
  const scanned: Record<string, number> = {};
  const hits: string[] = [];
  return {
    add(kind: string, text: string | readonly string[]): void {
      for (const t of typeof text === "string" ? [text] : text) {
        scanned[kind] = (scanned[kind] ?? 0) + 1;
        const at = t.indexOf(secret);
        if (at >= 0) hits.push(`${kind}: …${t.slice(Math.max(0, at - 80), at + secret.length + 20)}…`);
      }
    },
    scan(): SecretScan {
      return { scanned: { ...scanned }, hits: [...hits] };
    },
  };
}
