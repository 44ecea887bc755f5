/** One row of a benchmark table: column name → cell. */
export type Row = Record<string, string | number>;

/** Prints rows as a Markdown table under a heading, so the output pastes into docs/benchmarks.md. */
export function printTable(title: string, rows: readonly Row[]): void {
  process.stdout.write(`\n## ${title}\n\n`);
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  process.stdout.write(`${line(cols)}\n`);
  process.stdout.write(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => String(r[c] ?? "")))}\n`);
}
