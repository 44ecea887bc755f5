import type { ConnectorInfo } from "../registry/connector-registry.js";

/**
 * The start-up table of connectors and their task categories, titled and laid out like the Python
 * service's "Connector Metadata" table so operators find what they are used to.
 */
export function connectorTable(connectors: readonly ConnectorInfo[]): string {
  const rows = connectors.map((c) => [c.name, c.taskCategories.map((t) => `${t.name} (${t.version})`).join(", ")] as const);
  const header = ["Connector Name", "Supported Task Types"] as const;
  const w0 = Math.max(header[0].length, ...rows.map((r) => r[0].length));
  const w1 = Math.max(header[1].length, ...rows.map((r) => r[1].length));
  const line = (a: string, b: string) => `│ ${a.padEnd(w0)} │ ${b.padEnd(w1)} │`;
  const rule = (l: string, m: string, r: string) => `${l}${"─".repeat(w0 + 2)}${m}${"─".repeat(w1 + 2)}${r}`;
  const title = "Connector Metadata";
  const width = w0 + w1 + 7;
  return [
    " ".repeat(Math.max(0, Math.floor((width - title.length) / 2))) + title,
    rule("┌", "┬", "┐"),
    line(...header),
    rule("├", "┼", "┤"),
    ...(rows.length ? rows.map((r) => line(...r)) : [line("(none)", "")]),
    rule("└", "┴", "┘"),
  ].join("\n");
}
