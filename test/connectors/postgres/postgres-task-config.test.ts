import { postgresTaskConfigFrom } from "../../../src/connectors/postgres/postgres-task-config.js";
import { t } from "../../../src/literals/t.js";
import { createRequest } from "../../support/connector-requests.js";

type Outputs = Record<string, ReturnType<typeof t.int>["literalType"]>;

function configOf(custom: Record<string, unknown>, outputs: Outputs = {}, inputs: string[] = ["a", "b"], sql?: string) {
  const request = createRequest({
    type: "postgres",
    custom: custom as never,
    ...(sql ? { target: { case: "sql", value: { statement: sql } } } : {}),
    interface: {
      inputs: { variables: inputs.map((key) => ({ key, value: { type: t.int().literalType } })) },
      outputs: { variables: Object.entries(outputs).map(([key, type]) => ({ key, value: { type } })) },
    },
  });
  return postgresTaskConfigFrom(request.template, request.outputTypes, { maxInlineRows: 1000 });
}

describe("postgresTaskConfigFrom", () => {
  test("binds named inputs, strips a trailing semicolon, and picks output kinds from the types", () => {
    const config = configOf(
      { query: "select %(a)s + %(b)s as total, %(a)s;  " },
      {
        total: t.int().literalType,
        totals: t.list(t.int()).literalType,
        rows: t.list(t.dict()).literalType,
        row: t.dict().literalType,
        frame: t.dataframe().literalType,
      },
    );
    expect(config).toEqual({
      statement: "select $1 + $2 as total, $1",
      parameterNames: ["a", "b"],
      schema: "public",
      outputKinds: { total: "value", totals: "column", rows: "rows", row: "row", frame: "table" },
      maxInlineRows: 1000,
      statementTimeoutMs: 0,
    });
  });

  test("takes the template's sql statement over custom.query, and positional parameters by name", () => {
    expect(configOf({ query: "ignored", parameters: ["b", "a"] }, {}, ["a", "b"], "select $1, $2")).toMatchObject({
      statement: "select $1, $2",
      parameterNames: ["b", "a"],
    });
  });

  test.each([
    [{}, "needs its SQL"],
    [{ query: "select %(nope)s" }, 'the query binds "nope", which the task does not declare as inputs'],
    [{ query: "select 1", schema: "bad schema" }, 'custom["schema"] must be a plain identifier'],
    [{ query: "select 1", outputs: { n: "everything" } }, 'custom["outputs"]["n"] must be one of rows, column, row, value, row_count, table'],
    [{ query: "select 1", outputs: { other: "value" } }, 'custom["outputs"] names "other", which is not an output of the task'],
    [{ query: "delete from t returning id" }, "must be a SELECT, WITH, VALUES or TABLE statement"],
    [{ query: "select 1", max_inline_rows: -1 }, "custom.max_inline_rows must be an integer from 0 to 100000"],
    [{ query: "select 1", max_inline_rows: 1e9 }, "custom.max_inline_rows must be an integer from 0 to 100000"],
  ])("refuses %j", (custom, message) => {
    expect(() => configOf(custom, { n: t.int().literalType })).toThrow(message);
  });

  test("a statement without outputs may be anything", () => {
    expect(configOf({ query: "delete from t where id = %(a)s" }).statement).toBe("delete from t where id = $1");
  });
});
