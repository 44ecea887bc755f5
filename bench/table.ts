/** One row of a benchmark table: column name → cell. */
export type Row = Record<string, string | number>;

/** A figure with `digits` decimals; "n/a" when there is none (no call finished inside the window). */
export const fixed = (n: number | undefined, digits: number): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : "n/a");

/**
 * Prints rows as a Markdown table under a heading, so the output pastes into docs/benchmarks.md; `notes`
 * (what was skipped and why, what the ratios are against) go between the heading and the table.
 */
export function printTable(title: string, rows: readonly Row[], notes: readonly string[] = []): void {
  process.stdout.write(`\n## ${title}\n\n`);
  for (const note of notes) process.stdout.write(`${note}\n`);
  if (notes.length > 0) process.stdout.write("\n");
  if (rows.length === 0) return;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  process.stdout.write(`${line(cols)}\n`);
  process.stdout.write(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => String(r[c] ?? "")))}\n`);
}
