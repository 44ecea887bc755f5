import { fc, test as propTest } from "@fast-check/jest";
import { positionalStatementFrom } from "../../../src/connectors/postgres/sql-named-parameters.js";

describe("positionalStatementFrom", () => {
  test.each([
    ["select %(a)s, %(b)s, %(a)s", "select $1, $2, $1", ["a", "b"]],
    ["select * from t where x = %(x_1)s::int", "select * from t where x = $1::int", ["x_1"]],
    ["select '%(not)s', %(yes)s", "select '%(not)s', $1", ["yes"]],
    ["select 'it''s %(not)s', %(yes)s", "select 'it''s %(not)s', $1", ["yes"]],
    ["select E'a\\'%(not)s', %(yes)s", "select E'a\\'%(not)s', $1", ["yes"]],
    ['select "%(col)s" from t where a = %(a)s', 'select "%(col)s" from t where a = $1', ["a"]],
    ["select 1 -- %(not)s\n, %(yes)s", "select 1 -- %(not)s\n, $1", ["yes"]],
    ["select /* %(not)s /* nested %(no)s */ still */ %(yes)s", "select /* %(not)s /* nested %(no)s */ still */ $1", ["yes"]],
    ["select $$%(not)s$$, $tag$ %(no)s $tag$, %(yes)s", "select $$%(not)s$$, $tag$ %(no)s $tag$, $1", ["yes"]],
    ["select 5 % 3, '%' || %(p)s", "select 5 % 3, '%' || $1", ["p"]],
    ["select %(unterminated", "select %(unterminated", []],
    ["select $1 + %(a)s", "select $1 + $1", ["a"]],
  ])("%j", (sql, text, names) => {
    expect(positionalStatementFrom(sql)).toEqual({ text, names });
  });

  // A string literal's content is data: whatever it holds, nothing inside it becomes a parameter.
  propTest.prop([fc.string(), fc.string({ minLength: 1 }).filter((s) => /^[A-Za-z_]\w*$/.test(s))])(
    "placeholders inside string literals are left alone",
    (content, name) => {
      const literal = `'${content.replace(/'/g, "''")}'`;
      const sql = `select ${literal}, %(${name})s`;
      expect(positionalStatementFrom(sql)).toEqual({ text: `select ${literal}, $1`, names: [name] });
    },
  );
});
