import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import * as admin from "#idl1/flyteidl/admin/agent_pb.js";
import * as connector from "#idl/flyteidl2/connector/connector_pb.js";

/**
 * Flyte 1's agent messages (`flyteidl.admin`, `flyteidl.core`) and Flyte 2's connector messages
 * (`flyteidl2.connector`, `flyteidl2.core`) are the same on the wire wherever both have a field: Flyte 2 forked
 * the Flyte 1 files and renamed packages, kept field numbers and types, and moved maps to repeated entries with
 * the same layout (a `map<string, Literal>` entry is `{1: key, 2: value}`, exactly a `NamedLiteral`). So a
 * message is converted by re-reading its bytes as the other generation's type, with no field-by-field code to
 * drift. Fields only one side has are dropped. test/service/flyte1/wire-compat.test.ts walks both descriptor
 * trees for every pair below and fails on any field whose number means different things.
 */
export function convertMessage<To extends DescMessage>(from: DescMessage, message: MessageShape<DescMessage>, to: To): MessageShape<To> {
  return fromBinary(to, toBinary(from, message), { readUnknownFields: false });
}

/** The pairs converted by {@link convertMessage}: [Flyte 1, Flyte 2]. */
export const WIRE_PAIRS: readonly (readonly [DescMessage, DescMessage])[] = [
  [admin.CreateTaskRequestSchema, connector.CreateTaskRequestSchema],
  [admin.CreateTaskResponseSchema, connector.CreateTaskResponseSchema],
  [admin.GetTaskRequestSchema, connector.GetTaskRequestSchema],
  [admin.GetTaskResponseSchema, connector.GetTaskResponseSchema],
  [admin.DeleteTaskRequestSchema, connector.DeleteTaskRequestSchema],
  [admin.GetTaskMetricsRequestSchema, connector.GetTaskMetricsRequestSchema],
  [admin.GetTaskMetricsResponseSchema, connector.GetTaskMetricsResponseSchema],
  [admin.GetTaskLogsRequestSchema, connector.GetTaskLogsRequestSchema],
  [admin.GetTaskLogsResponseSchema, connector.GetTaskLogsResponseSchema],
];
