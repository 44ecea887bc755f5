import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import type { OutputTypes } from "../connector.js";
import { InvalidTaskError } from "../errors.js";
import { defaultOutputKindOf, POSTGRES_OUTPUT_KINDS, type PostgresOutputKind } from "./postgres-output-kind.js";
import { positionalStatementFrom } from "./sql-named-parameters.js";

/**
 * A PostgreSQL task's own configuration, from `TaskTemplate.custom` (and `TaskTemplate.sql`):
 *
 * | `custom` key | meaning |
 * |---|---|
 * | `query` | the SQL statement, unless the template carries it in `sql.statement`; inputs as `%(name)s` |
 * | `parameters` | instead of names: the input names bound to `$1`, `$2`, … in order |
 * | `schema` | where the job table and result tables live (default `public`) |
 * | `outputs` | output name → `rows`, `column`, `row`, `value`, `row_count` or `table` (default: by type) |
 * | `max_inline_rows` | the most rows returned inline (default: the connector's, 1000) |
 * | `statement_timeout_ms` | the query's `statement_timeout` (default none) |
 */
export interface PostgresTaskConfig {
  /** One statement with `$n` placeholders. */
  readonly statement: string;
  /** The input bound to each placeholder, `$1` first. */
  readonly parameterNames: readonly string[];
  readonly schema: string;
  readonly outputKinds: Readonly<Record<string, PostgresOutputKind>>;
  readonly maxInlineRows: number;
  readonly statementTimeoutMs: number;
}

/**
 * The most rows any task may ask to be returned inline: they are all read into memory at GetTask, and the
 * number comes from the task (and back from the metadata, which is client input).
 */
export const MAX_INLINE_ROWS_LIMIT = 100_000;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** The statements whose rows `CREATE TABLE … AS` accepts. */
const ROW_STATEMENT = /^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()*(select|with|values|table)\b/i;

function field(custom: JsonObject, key: string): JsonValue | undefined {
  const v = custom[key];
  return v === null ? undefined : v;
}

function nonNegativeInteger(custom: JsonObject, key: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = field(custom, key);
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) throw new InvalidTaskError(`custom.${key} must be an integer from 0 to ${max}`);
  return v;
}

/** Reads and checks the task's configuration; throws {@link InvalidTaskError} naming what is wrong. */
export function postgresTaskConfigFrom(template: TaskTemplate, outputTypes: OutputTypes, defaults: { maxInlineRows: number }): PostgresTaskConfig {
  const custom: JsonObject = template.custom ?? {};
  const sql = template.target.case === "sql" ? template.target.value.statement : "";
  const query = sql || field(custom, "query");
  if (typeof query !== "string" || query.trim() === "") {
    throw new InvalidTaskError('a PostgreSQL task needs its SQL in custom["query"] (or the template\'s sql.statement)');
  }
  // A trailing semicolon is habit, not a second statement; CREATE TABLE … AS would choke on it.
  const text = query.trim().replace(/;+\s*$/, "");
  const declaredInputs = new Set((template.interface?.inputs?.variables ?? []).map((v) => v.key));

  let statement: string;
  let parameterNames: string[];
  const positional = field(custom, "parameters");
  if (positional !== undefined) {
    if (!Array.isArray(positional) || !positional.every((p): p is string => typeof p === "string")) {
      throw new InvalidTaskError('custom["parameters"] must be a list of input names, bound to $1, $2, … in order');
    }
    statement = text;
    parameterNames = positional;
  } else {
    const bound = positionalStatementFrom(text);
    statement = bound.text;
    parameterNames = [...bound.names];
  }
  const unknown = parameterNames.filter((n) => !declaredInputs.has(n));
  if (unknown.length > 0) {
    throw new InvalidTaskError(
      `the query binds ${unknown.map((n) => `"${n}"`).join(", ")}, which the task does not declare as inputs (inputs: ${[...declaredInputs].join(", ") || "none"})`,
    );
  }

  const schema = field(custom, "schema") ?? "public";
  if (typeof schema !== "string" || !IDENTIFIER.test(schema))
    throw new InvalidTaskError(`custom["schema"] must be a plain identifier, got ${JSON.stringify(schema)}`);

  const requested = field(custom, "outputs") ?? {};
  if (typeof requested !== "object" || Array.isArray(requested)) throw new InvalidTaskError('custom["outputs"] must map output names to kinds');
  const outputKinds: Record<string, PostgresOutputKind> = {};
  for (const [name, kind] of Object.entries(requested)) {
    if (!Object.hasOwn(outputTypes, name)) throw new InvalidTaskError(`custom["outputs"] names "${name}", which is not an output of the task`);
    if (!POSTGRES_OUTPUT_KINDS.includes(kind as PostgresOutputKind)) {
      throw new InvalidTaskError(`custom["outputs"]["${name}"] must be one of ${POSTGRES_OUTPUT_KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
    }
    outputKinds[name] = kind as PostgresOutputKind;
  }
  for (const [name, type] of Object.entries(outputTypes)) {
    if (outputKinds[name]) continue;
    const kind = defaultOutputKindOf(type);
    if (!kind) {
      throw new InvalidTaskError(
        `output "${name}" has a type a query cannot fill; name what it takes in custom["outputs"]["${name}"] (${POSTGRES_OUTPUT_KINDS.join(", ")})`,
      );
    }
    outputKinds[name] = kind;
  }
  if (Object.keys(outputKinds).length > 0 && !ROW_STATEMENT.test(statement)) {
    throw new InvalidTaskError("a query whose result fills outputs must be a SELECT, WITH, VALUES or TABLE statement");
  }

  return {
    statement,
    parameterNames,
    schema,
    outputKinds,
    maxInlineRows: nonNegativeInteger(custom, "max_inline_rows", defaults.maxInlineRows, MAX_INLINE_ROWS_LIMIT),
    statementTimeoutMs: nonNegativeInteger(custom, "statement_timeout_ms", 0, 2 ** 31 - 1),
  };
}
