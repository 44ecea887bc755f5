import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetTaskResponseSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { LiteralMapSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { outputsFileBytes } from "../../src/storage/outputs-file.js";
import { responseSizeWith } from "../../src/storage/output-offload.js";
import { stringLiteral } from "../support/tasks.js";

const response = (text: string, extra: { message?: string; links?: number } = {}) =>
  create(GetTaskResponseSchema, {
    resource: {
      phase: TaskExecution_Phase.SUCCEEDED,
      message: extra.message ?? "",
      logLinks: Array.from({ length: extra.links ?? 0 }, (_, i) => ({ name: `l${i}`, uri: `https://console/${i}` })),
      outputs: {
        literals: [
          { name: "o0", value: stringLiteral(text) },
          { name: "o1", value: stringLiteral("b") },
        ],
      },
    },
  });

test("the response size is computed from the outputs' bytes exactly, without encoding the response", () => {
  for (const size of [0, 1, 100, 126, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 4 * 1024 * 1024]) {
    for (const extra of [{}, { message: "done", links: 3 }]) {
      const r = response("x".repeat(size), extra);
      const without = create(GetTaskResponseSchema, { resource: { ...r.resource!, outputs: undefined } });
      expect(responseSizeWith(without, outputsFileBytes(r.resource!.outputs!).length)).toBe(toBinary(GetTaskResponseSchema, r).length);
    }
  }
});

test("outputs.pb is the Outputs' bytes, which read as a LiteralMap; a duplicate name keeps the last value, as the executor does", () => {
  const r = create(GetTaskResponseSchema, {
    resource: {
      outputs: {
        literals: [
          { name: "a", value: stringLiteral("first") },
          { name: "b", value: stringLiteral("x") },
          { name: "a", value: stringLiteral("last") },
        ],
      },
    },
  });
  const map = fromBinary(LiteralMapSchema, outputsFileBytes(r.resource!.outputs!));
  expect(Object.keys(map.literals).sort()).toEqual(["a", "b"]);
  const a = map.literals["a"]?.value;
  expect(a?.case === "scalar" && a.value.value.case === "primitive" ? a.value.value.value.value : undefined).toEqual({ case: "stringValue", value: "last" });
});
