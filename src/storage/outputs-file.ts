import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { OutputsSchema, type Outputs } from "#idl/flyteidl2/task/common_pb.js";

/** The file the executor reads under the output prefix when a SUCCEEDED resource has no inline outputs. */
export const OUTPUTS_FILE = "outputs.pb";

/**
 * `outputs.pb` as the executor reads and writes it: a `flyteidl2.core.LiteralMap` (docs/flyte-executor.md
 * §4.3). `task.Outputs` has the same wire format (its NamedLiteral `name = 1, value = 2` is a map entry's
 * `key = 1, value = 2`), so the Outputs' own bytes are the file: a LiteralMap reader keeps the last of a
 * duplicate name, as the executor does. The same outputs always give the same bytes (output order, no
 * unknown fields), so a retried GetTask writes an identical object.
 */
export function outputsFileBytes(outputs: Outputs): Uint8Array {
  return toBinary(OutputsSchema, outputs);
}

/** Reads an `outputs.pb` back as `Outputs`, for connectors and tests that check what was written. */
export function outputsFromFileBytes(bytes: Uint8Array): Outputs {
  const map = fromBinary(LiteralMapSchema, bytes);
  return create(OutputsSchema, { literals: Object.entries(map.literals).map(([name, value]) => ({ name, value })) });
}
