import { jsonPointerGet } from "../../../src/connectors/http-job/json-pointer.js";
import { jsonTemplateNames, renderJsonTemplate, renderTemplate, TemplateError, templateNames } from "../../../src/connectors/http-job/http-template.js";

const values: Record<string, unknown> = {
  "inputs.name": "a b/c?d=1",
  "inputs.n": 42,
  "inputs.list": [1, 2],
  "configs.base_url": "https://api.example.com/v2",
  job_id: "j-1",
};
const resolve = (name: string) => values[name];

describe("templates", () => {
  test("URLs percent-encode {{ }} values and keep {{{ }}} values raw", () => {
    expect(renderTemplate("{{{configs.base_url}}}/jobs/{{job_id}}?q={{ inputs.name }}", resolve, "url")).toBe(
      "https://api.example.com/v2/jobs/j-1?q=a%20b%2Fc%3Fd%3D1",
    );
  });

  test("headers and text take values as they are", () => {
    expect(renderTemplate("Bearer {{inputs.name}} {{inputs.n}} {{inputs.list}}", resolve, "text")).toBe("Bearer a b/c?d=1 42 [1,2]");
  });

  test("a JSON body keeps the types of whole placeholders and interpolates the rest", () => {
    expect(renderJsonTemplate({ n: "{{inputs.n}}", list: "{{ inputs.list }}", label: "job {{job_id}}", fixed: 7, nested: ["{{inputs.n}}"] }, resolve)).toEqual({
      n: 42,
      list: [1, 2],
      label: "job j-1",
      fixed: 7,
      nested: [42],
    });
  });

  test("an unknown name is an error that names it", () => {
    expect(() => renderTemplate("{{inputs.missing}}", resolve, "text")).toThrow(TemplateError);
    expect(() => renderTemplate("{{inputs.missing}}", resolve, "text")).toThrow("{{inputs.missing}}");
  });

  test("names are found in strings and JSON templates", () => {
    expect(templateNames("{{a}} {{{b.c}}} {{ d }}")).toEqual(["a", "b.c", "d"]);
    expect(jsonTemplateNames({ x: ["{{a}}", { y: "{{{b}}}" }], z: 1 })).toEqual(["a", "b"]);
  });
});

describe("jsonPointerGet", () => {
  const doc = { a: { "b/c": [10, { "~d": null }] }, "": 1 };
  test.each([
    ["", { found: true, value: doc }],
    ["/a/b~1c/0", { found: true, value: 10 }],
    ["/a/b~1c/1/~0d", { found: true, value: null }],
    ["/", { found: true, value: 1 }],
    ["/a/b~1c/2", { found: false }],
    ["/a/b~1c/01", { found: false }],
    ["/a/x", { found: false }],
  ])("%j", (pointer, expected) => {
    expect(jsonPointerGet(doc, pointer)).toEqual(expected);
  });

  test("rejects what is not a pointer", () => {
    expect(() => jsonPointerGet(doc, "a/b")).toThrow("not a JSON pointer");
  });
});
