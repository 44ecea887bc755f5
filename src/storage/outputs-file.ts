import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema, type Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { OutputsSchema, type Outputs } from "#idl/flyteidl2/task/common_pb.js";

/** The file the executor reads under the output prefix when a SUCCEEDED resource has no inline outputs. */
export const OUTPUTS_FILE = "outputs.pb";

/**
 * `outputs.pb` as the executor reads and writes it: a `flyteidl2.core.LiteralMap` (executor-contract.md
 * §4.3), whose wire format is also that of `flyteidl2.task.Outputs`. A duplicate name keeps the last literal,
 * as the executor does. The same outputs always give the same bytes (entries in output order, no unknown
 * fields), so a retried GetTask writes an identical object.
 */
export function outputsFileBytes(outputs: Outputs): Uint8Array {
  const literals: Record<string, Literal> = {};
  for (const { name, value } of outputs.literals) {
    if (value === undefined) continue;
    // Assigned fresh so that a duplicate moves nothing: the first position and the last value.
    literals[name] = value;
  }
  return toBinary(LiteralMapSchema, create(LiteralMapSchema, { literals }));
}

/** Reads an `outputs.pb` back as `Outputs`, for connectors and tests that check what was written. */
export function outputsFromFileBytes(bytes: Uint8Array): Outputs {
  const map = fromBinary(LiteralMapSchema, bytes);
  return create(OutputsSchema, { literals: Object.entries(map.literals).map(([name, value]) => ({ name, value })) });
}
