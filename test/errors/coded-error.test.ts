import { ConnectorError, InvalidTaskError } from "../../src/connectors/errors.js";
import { ResourceMetaError } from "../../src/connectors/resource-meta.js";
import { CodedError } from "../../src/errors/coded-error.js";
import { LiteralError } from "../../src/literals/errors.js";
import { ConnectorNotFoundError } from "../../src/registry/errors.js";

test("each error carries its class's code and name", () => {
  const e = new ConnectorNotFoundError("Cannot find connector for task type: x and version: 0", "x");
  expect([e.code, e.name, e.message, e.taskTypeName]).toEqual([
    "FC_CONNECTOR_NOT_FOUND",
    "ConnectorNotFoundError",
    "Cannot find connector for task type: x and version: 0",
    "x",
  ]);
  expect(ConnectorError.retryable("busy")).toMatchObject({ code: "FC_CONNECTOR_ERROR", retryable: true, name: "ConnectorError" });
  expect(new LiteralError("bad").code).toBe("FC_BAD_LITERAL");
});

test("instanceof recognises errors from another copy of the package by their code", () => {
  // What a connector module bundling its own flyte-connect would throw: same code, other class.
  const foreign = Object.assign(new Error("from another copy"), { code: "FC_INVALID_TASK" });
  expect(foreign instanceof InvalidTaskError).toBe(true);
  expect(foreign instanceof CodedError).toBe(true);
  expect(foreign instanceof ResourceMetaError).toBe(false);
  expect(Object.assign(new Error("x"), { code: "ECONNREFUSED" }) instanceof CodedError).toBe(false);
  expect(new InvalidTaskError("y") instanceof InvalidTaskError).toBe(true);
  expect(new InvalidTaskError("y") instanceof ConnectorError).toBe(false);
  expect(("FC_INVALID_TASK" as unknown as object) instanceof CodedError).toBe(false);
});

test("a subclass without a code is a programming error caught at construction", () => {
  class Nameless extends CodedError {}
  expect(() => new Nameless("x")).toThrow("Nameless must declare a static code");
});
