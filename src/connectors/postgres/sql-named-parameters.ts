/** A statement with its named placeholders replaced by PostgreSQL's positional ones. */
export interface PositionalStatement {
  /** The SQL text with `$1`, `$2`, … in place of the names. */
  readonly text: string;
  /** The name bound to `$1`, `$2`, …: each distinct name once, in order of first appearance. */
  readonly names: readonly string[];
}

const NAMED = /^%\(([A-Za-z_][A-Za-z0-9_]*)\)s/;
const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

/**
 * Replaces psycopg-style `%(name)s` placeholders with `$n`, so that values travel as bind parameters and
 * never become SQL text. Placeholders inside string literals, quoted identifiers, dollar-quoted strings and
 * comments are left alone, since there they are data, not parameters.
 *
 * @example
 * positionalStatementFrom("select * from t where a = %(x)s and b > %(x)s");
 * // { text: "select * from t where a = $1 and b > $1", names: ["x"] }
 */
export function positionalStatementFrom(sql: string): PositionalStatement {
  const names: string[] = [];
  let out = "";
  let i = 0;
  const copyUntil = (end: number) => {
    out += sql.slice(i, end);
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      // A doubled quote inside is an escaped quote; an E'' string may also escape with a backslash.
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? "") && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? "");
      let j = i + 1;
      while (j < sql.length) {
        if (escapes && sql[j] === "\\") j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      copyUntil(Math.min(j + 1, sql.length));
    } else if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      copyUntil(end === -1 ? sql.length : end + 1);
    } else if (c === "/" && next === "*") {
      // Block comments nest in PostgreSQL.
      let depth = 0;
      let j = i;
      do {
        if (sql.startsWith("/*", j)) {
          depth++;
          j += 2;
        } else if (sql.startsWith("*/", j)) {
          depth--;
          j += 2;
        } else j++;
      } while (depth > 0 && j < sql.length);
      copyUntil(j);
    } else if (c === "$" && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? "") && DOLLAR_TAG.test(sql.slice(i, i + 64))) {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64))![0];
      const end = sql.indexOf(tag, i + tag.length);
      copyUntil(end === -1 ? sql.length : end + tag.length);
    } else if (c === "%" && next === "(") {
      const m = NAMED.exec(sql.slice(i, i + 80));
      if (!m) {
        copyUntil(i + 1);
        continue;
      }
      let n = names.indexOf(m[1]!);
      if (n === -1) n = names.push(m[1]!) - 1;
      out += `$${n + 1}`;
      i += m[0].length;
    } else {
      copyUntil(i + 1);
    }
  }
  return { text: out, names };
}
