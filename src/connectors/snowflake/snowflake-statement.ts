import { Datetime } from "../../literals/datetime.js";
import { InvalidTaskError } from "../errors.js";

/** A SQL API v2 binding: `{"type": "FIXED", "value": "3"}`; values are strings, NULL is `null`. */
export interface SnowflakeBinding {
  readonly type: "FIXED" | "REAL" | "TEXT" | "BOOLEAN";
  readonly value: string | null;
}

/** A statement ready for `POST /api/v2/statements`: `?` placeholders and their bindings `"1"`, `"2"`, …. */
export interface BoundStatement {
  readonly statement: string;
  readonly bindings: Readonly<Record<string, SnowflakeBinding>>;
}

/** `2024-01-02 03:04:05.123456+00:00`: what the Python driver writes for a tz-aware datetime, as text Snowflake casts. */
function datetimeText(d: Datetime): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(Math.floor(d.nanos / 1000)).padStart(6, "0")}+00:00`;
}

function bindingOf(value: unknown, name: string): SnowflakeBinding {
  if (value === null || value === undefined) return { type: "TEXT", value: null };
  if (typeof value === "bigint") return { type: "FIXED", value: String(value) };
  // Flyte ints arrive as bigint, so a number is a float, even a whole one.
  if (typeof value === "number") return { type: "REAL", value: String(value) };
  if (typeof value === "boolean") return { type: "BOOLEAN", value: String(value) };
  if (typeof value === "string") return { type: "TEXT", value };
  if (value instanceof Datetime) return { type: "TEXT", value: datetimeText(value) };
  throw new InvalidTaskError(`input "${name}" cannot be a Snowflake parameter: use int, float, str, bool, datetime or a list of those`);
}

/**
 * Binds pyformat parameters as the Python task does, but as server-side bindings instead of text: each
 * `%(name)s` becomes `?` (one binding per occurrence), a list becomes `?, ?, ?` (the Python driver writes a
 * list as comma-separated values, for `IN (%(ids)s)`), and `%%` is a literal `%`, as with Python's `%`
 * formatting. Without parameters the statement is sent as written, as Python does.
 */
export function bindPyformat(sql: string, params: Readonly<Record<string, unknown>>): BoundStatement {
  if (Object.keys(params).length === 0) return { statement: sql, bindings: {} };
  const bindings: Record<string, SnowflakeBinding> = {};
  let n = 0;
  const bind = (value: unknown, name: string) => {
    bindings[String(++n)] = bindingOf(value, name);
    return "?";
  };
  const statement = sql.replace(/%(?:\(([^)]*)\)s|%)/g, (match, name: string | undefined) => {
    if (match === "%%") return "%";
    if (!Object.hasOwn(params, name!)) throw new InvalidTaskError(`the query refers to %(${name})s, but the task has no input "${name}"`);
    const value = params[name!];
    if (!Array.isArray(value)) return bind(value, name!);
    if (value.length === 0) throw new InvalidTaskError(`input "${name}" is an empty list, which gives no SQL value`);
    return value.map((v) => bind(v, name!)).join(", ");
  });
  return { statement, bindings };
}

const VALUES_OPEN = /VALUES\s*\(/gi;

/**
 * Each `VALUES (…)` tuple: where it starts, where it ends and what is between its parentheses, which are
 * matched with nesting (`coalesce(%(b)s, 0)` inside a tuple) and skipping quoted text. The Python task's
 * regular expression stops at the first `)` of a nested call and breaks such statements.
 */
function valuesTuples(sql: string): { start: number; end: number; content: string }[] {
  const tuples: { start: number; end: number; content: string }[] = [];
  for (const m of sql.matchAll(VALUES_OPEN)) {
    const open = m.index + m[0].length;
    let depth = 1;
    let i = open;
    for (; i < sql.length && depth > 0; i++) {
      const c = sql[i];
      if (c === "'" || c === '"') {
        const close = sql.indexOf(c, i + 1);
        i = close === -1 ? sql.length : close;
      } else if (c === "(") depth++;
      else if (c === ")") depth--;
    }
    if (depth === 0) tuples.push({ start: m.index, end: i, content: sql.slice(open, i - 1) });
  }
  return tuples;
}

/**
 * The Python task's batch mode (`batch=True`): list inputs of equal, non-zero length expand the statement's
 * single `VALUES (…)` tuple into one tuple per row, `%(a)s` becoming `%(a_0)s`, `%(a_1)s`, …, with the
 * parameters flattened to match.
 *
 * @example
 * expandBatch("INSERT INTO t (a, b) VALUES (%(a)s, %(b)s)", { a: [1n, 2n], b: ["x", "y"] });
 * // "INSERT INTO t (a, b) VALUES (%(a_0)s, %(b_0)s), (%(a_1)s, %(b_1)s)", { a_0: 1n, b_0: "x", a_1: 2n, b_1: "y" }
 */
export function expandBatch(sql: string, inputs: Readonly<Record<string, unknown>>): { sql: string; params: Record<string, unknown> } {
  const keys = Object.keys(inputs);
  const lengths = new Set<number>();
  for (const key of keys) {
    const v = inputs[key];
    if (!Array.isArray(v)) throw new InvalidTaskError(`batch=True needs every input to be a list; "${key}" is not`);
    lengths.add(v.length);
  }
  if (lengths.size !== 1) throw new InvalidTaskError("All batch input lists must have the same length.");
  const rows = [...lengths][0]!;
  if (rows === 0) throw new InvalidTaskError("Batch inputs must contain at least one row.");
  const matches = valuesTuples(sql);
  if (matches.length === 0) throw new InvalidTaskError("Batch inputs require a query template with a VALUES (...) clause.");
  if (matches.length > 1) throw new InvalidTaskError("Batch query expansion supports exactly one VALUES (...) clause.");
  const match = matches[0]!;
  const params: Record<string, unknown> = {};
  const tuples: string[] = [];
  for (let i = 0; i < rows; i++) {
    let row = match.content;
    for (const key of keys) {
      row = row.split(`%(${key})s`).join(`%(${key}_${i})s`);
      params[`${key}_${i}`] = (inputs[key] as unknown[])[i];
    }
    tuples.push(`(${row})`);
  }
  return { sql: `${sql.slice(0, match.start)}VALUES ${tuples.join(", ")}${sql.slice(match.end)}`, params };
}
