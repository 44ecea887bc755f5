import fc from "fast-check";
import { parsePythonJson, parsePythonJsonText, PythonJsonSyntaxError, stringifyPythonJson } from "../../src/connectors/python-json.js";

describe("stringifyPythonJson writes what Python's json.dumps writes", () => {
  test.each<[unknown, string]>([
    // flyte-sdk's own test compares these bytes (tests/flyte/connector/test_connector_service.py).
    [
      { job_id: "dummy_id", output_path: "/tmp/dummy_id", task_name: "async_dummy" },
      '{"job_id": "dummy_id", "output_path": "/tmp/dummy_id", "task_name": "async_dummy"}',
    ],
    [{ a: [1, 2.5, null, true, false], b: {} }, '{"a": [1, 2.5, null, true, false], "b": {}}'],
    [{ s: 'é ☃ 😀 \n\t"\\ /' }, '{"s": "\\u00e9 \\u2603 \\ud83d\\ude00 \\n\\t\\"\\\\ /"}'],
    [[NaN, Infinity, -Infinity], "[NaN, Infinity, -Infinity]"],
    [[1e16, 1.5e-5, 0.0001, 123456789012345680000, -0.5, 3.0], "[1e+16, 1.5e-05, 0.0001, 1.2345678901234568e+20, -0.5, 3]"],
    [{ big: 9007199254740993n }, '{"big": 9007199254740993}'],
    [{ skip: undefined, keep: 1 }, '{"keep": 1}'],
    ["\u007f\u0000", '"\\u007f\\u0000"'],
  ])("%j", (value, expected) => {
    expect(stringifyPythonJson(value)).toBe(expected);
  });

  test("values JSON cannot hold are refused, as Python refuses datetime and bytes", () => {
    expect(() => stringifyPythonJson({ when: new Date() })).toThrow("$.when: Date is not JSON serializable");
    expect(() => stringifyPythonJson({ b: new Uint8Array(1) })).toThrow(TypeError);
    expect(() => stringifyPythonJson(() => 1)).toThrow(TypeError);
  });
});

describe("parsePythonJson", () => {
  test("reads Python's NaN and Infinity, and keeps big integers exact", () => {
    expect(parsePythonJson('{"a": NaN, "b": -Infinity, "c": 12345678901234567890, "d": -3, "e": 1.5e3}')).toEqual({
      a: NaN,
      b: -Infinity,
      c: 12345678901234567890n,
      d: -3,
      e: 1500,
    });
  });

  test.each(["", "{", '{"a" 1}', "[1,]", '"\\x"', "tru", "01", '{"a": 1} x', '"a\nb"'])("rejects %j", (text) => {
    expect(() => parsePythonJson(text)).toThrow(PythonJsonSyntaxError);
  });

  test("a whole number past 2^53 is written as a float and reads back as the same number, not a bigint", () => {
    // fast-check's counterexample: it used to be written 9007199254740992 and read back as 9007199254740992n.
    expect(stringifyPythonJson([2 ** 53, -(2 ** 60)])).toBe("[9007199254740992.0, -1.152921504606847e+18]");
    expect(parsePythonJson(stringifyPythonJson({ "": [2 ** 53] }))).toEqual({ "": [2 ** 53] });
    expect(stringifyPythonJson(Number.MAX_SAFE_INTEGER)).toBe("9007199254740991");
  });

  test("a __proto__ key is data, not a prototype", () => {
    const v = parsePythonJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.keys(v)).toEqual(["__proto__"]);
  });

  test("property: parse(stringify(v)) equals v, and agrees with JSON.parse where JSON can say it", () => {
    const value = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(value, (v) => {
        const text = stringifyPythonJson(v);
        expect(parsePythonJson(text)).toEqual(JSON.parse(JSON.stringify(v)));
        expect(/[^\x20-\x7e]/.test(text)).toBe(false); // ASCII only, as ensure_ascii=True
      }),
    );
  });

  test("property: the JSON.parse shortcut reads every text as the full parser does", () => {
    const texts = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => stringifyPythonJson(v)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.json(),
      fc.string(),
      fc.constantFrom("-0", "[-0.0]", '{"a": 1, "a": 2}', '{"__proto__": 1}', "1e400", "9007199254740993", "[9007199254740992]", " [ ] "),
    );
    fc.assert(
      fc.property(texts, (text) => {
        let full: unknown;
        let error: unknown;
        try {
          full = parsePythonJsonText(text);
        } catch (e) {
          error = e;
        }
        if (error === undefined) expect(parsePythonJson(text)).toEqual(full);
        else expect(() => parsePythonJson(text)).toThrow(PythonJsonSyntaxError);
      }),
      { numRuns: 2000 },
    );
  });

  test("nesting past the limit is refused however short the text", () => {
    expect(() => parsePythonJson(`${"[".repeat(600)}${"]".repeat(600)}`)).toThrow("nesting too deep");
  });
});
