import type { DescMessage } from "@bufbuild/protobuf";
import {
  CreateTaskRequestSchema,
  CreateTaskResponseSchema,
  DeleteTaskRequestSchema,
  DeleteTaskResponseSchema,
  GetTaskMetricsRequestSchema,
  GetTaskMetricsResponseSchema,
  GetTaskRequestSchema,
  GetTaskResponseSchema,
} from "#idl/flyteidl2/connector/connector_pb.js";
import type { LargeCallMethod } from "./worker-protocol.js";

/** The request and response of each method the large-request worker runs. */
export const LARGE_CALL_SCHEMAS = {
  createTask: { request: CreateTaskRequestSchema, response: CreateTaskResponseSchema },
  getTask: { request: GetTaskRequestSchema, response: GetTaskResponseSchema },
  deleteTask: { request: DeleteTaskRequestSchema, response: DeleteTaskResponseSchema },
  getTaskMetrics: { request: GetTaskMetricsRequestSchema, response: GetTaskMetricsResponseSchema },
} as const satisfies Record<LargeCallMethod, { readonly request: DescMessage; readonly response: DescMessage }>;

const BY_REQUEST: ReadonlyMap<DescMessage, LargeCallMethod> = new Map(
  (Object.keys(LARGE_CALL_SCHEMAS) as LargeCallMethod[]).map((m) => [LARGE_CALL_SCHEMAS[m].request as DescMessage, m]),
);

/** The worker method whose request `schema` is, if the worker runs it (GetTaskLogs streams: it does not). */
export function largeCallMethodOf(schema: DescMessage): LargeCallMethod | undefined {
  return BY_REQUEST.get(schema);
}
