import { InvalidTaskError } from "../../../src/connectors/errors.js";
import { jwtAccount } from "../../../src/connectors/snowflake/snowflake-key-pair-jwt.js";
import { bindPyformat, expandBatch } from "../../../src/connectors/snowflake/snowflake-statement.js";
import { Datetime } from "../../../src/literals/datetime.js";

describe("Snowflake statements", () => {
  test("batch expansion gives the Python task's query and flat parameters (its docstring example)", () => {
    expect(expandBatch("INSERT INTO t (a, b) VALUES (%(a)s, %(b)s)", { a: [1n, 2n], b: ["x", "y"] })).toEqual({
      sql: "INSERT INTO t (a, b) VALUES (%(a_0)s, %(b_0)s), (%(a_1)s, %(b_1)s)",
      params: { a_0: 1n, b_0: "x", a_1: 2n, b_1: "y" },
    });
  });

  test("a VALUES tuple with a function call inside (which the Python pattern cuts short), case-insensitive, text after it kept", () => {
    const { sql } = expandBatch("insert into t values (%(a)s, coalesce(%(b)s, 0)) returning 1", { a: [1n, 2n], b: [3n, 4n] });
    expect(sql).toBe("insert into t VALUES (%(a_0)s, coalesce(%(b_0)s, 0)), (%(a_1)s, coalesce(%(b_1)s, 0)) returning 1");
  });

  test("batch refusals carry the Python task's messages", () => {
    expect(() => expandBatch("INSERT INTO t VALUES (%(a)s)", { a: [] })).toThrow("Batch inputs must contain at least one row.");
    expect(() => expandBatch("SELECT %(a)s", { a: [1n] })).toThrow("Batch inputs require a query template with a VALUES (...) clause.");
    expect(() => expandBatch("INSERT INTO t VALUES (%(a)s); INSERT INTO u VALUES (%(a)s)", { a: [1n] })).toThrow("exactly one VALUES (...) clause");
    expect(() => expandBatch("INSERT INTO t VALUES (%(a)s)", { a: 1n })).toThrow(InvalidTaskError);
  });

  test("pyformat becomes positional bindings, one per occurrence, with SQL API types", () => {
    expect(
      bindPyformat("SELECT %(a)s, %(a)s, %(b)s, %(c)s, %(d)s, %(e)s, 'x%%'", {
        a: 1n,
        b: 2.5,
        c: true,
        d: null,
        e: Datetime.fromISOString("2024-01-02T03:04:05.123456Z"),
      }),
    ).toEqual({
      statement: "SELECT ?, ?, ?, ?, ?, ?, 'x%'",
      bindings: {
        "1": { type: "FIXED", value: "1" },
        "2": { type: "FIXED", value: "1" },
        "3": { type: "REAL", value: "2.5" },
        "4": { type: "BOOLEAN", value: "true" },
        "5": { type: "TEXT", value: null },
        "6": { type: "TEXT", value: "2024-01-02 03:04:05.123456+00:00" },
      },
    });
    // Without inputs the statement is sent as written, % and all.
    expect(bindPyformat("SELECT 'x%'", {})).toEqual({ statement: "SELECT 'x%'", bindings: {} });
    expect(() => bindPyformat("SELECT %(missing)s", { a: 1n })).toThrow('no input "missing"');
  });

  test("the JWT's account is upper case and drops an account locator's region", () => {
    expect(jwtAccount("myorg-myacct")).toBe("MYORG-MYACCT");
    expect(jwtAccount("xy12345.us-east-1")).toBe("XY12345");
  });
});
