import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CreateTaskRequestSchema,
  ExecuteTaskSyncRequestSchema,
  ExecuteTaskSyncResponseSchema,
  type CreateTaskRequest,
  type ExecuteTaskSyncRequest,
  type ExecuteTaskSyncResponse,
} from "#idl1/flyteidl/admin/agent_pb.js";
import { ResourceType } from "#idl1/flyteidl/core/identifier_pb.js";
import type { LiteralMapSchema, LiteralSchema } from "#idl1/flyteidl/core/literals_pb.js";
import { RuntimeMetadata_RuntimeType, TaskTemplateSchema, type TaskTemplate } from "#idl1/flyteidl/core/tasks_pb.js";
import { SimpleType, type LiteralTypeSchema } from "#idl1/flyteidl/core/types_pb.js";
import { SyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";

type LiteralTypeInit = MessageInitShape<typeof LiteralTypeSchema>;
type LiteralInit = MessageInitShape<typeof LiteralSchema>;

export const F1_FLOAT: LiteralTypeInit = { type: { case: "simple", value: SimpleType.FLOAT } };
export const F1_STRING: LiteralTypeInit = { type: { case: "simple", value: SimpleType.STRING } };
export const f1Float = (v: number): LiteralInit => ({
  value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "floatValue", value: v } } } } },
});
export const f1String = (v: string): LiteralInit => ({
  value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: v } } } } },
});

export interface Flyte1TaskSpec {
  readonly type: string;
  readonly inputs?: Record<string, { type: LiteralTypeInit; literal?: LiteralInit }>;
  readonly outputs?: Record<string, LiteralTypeInit>;
  readonly custom?: Record<string, unknown>;
}

/**
 * A TaskTemplate as flytekit serializes a Python agent task: a TASK identifier, runtime metadata of the
 * Python SDK, the interface as maps of variables with descriptions, `custom` as a Struct, no container.
 */
export function flytekitTemplate(spec: Flyte1TaskSpec): TaskTemplate {
  return create(TaskTemplateSchema, {
    id: { resourceType: ResourceType.TASK, project: "flytesnacks", domain: "development", name: `workflows.example.${spec.type}_task`, version: "v1" },
    type: spec.type,
    metadata: {
      runtime: { type: RuntimeMetadata_RuntimeType.FLYTE_SDK, version: "1.16.5", flavor: "python" },
      retries: { retries: 0 },
      timeout: undefined,
    },
    interface: {
      inputs: { variables: Object.fromEntries(Object.entries(spec.inputs ?? {}).map(([k, v]) => [k, { type: v.type, description: k }])) },
      outputs: { variables: Object.fromEntries(Object.entries(spec.outputs ?? {}).map(([k, type]) => [k, { type, description: k }])) },
    },
    custom: (spec.custom ?? {}) as never,
    taskTypeVersion: 0,
  });
}

/** Inputs as flytekit's TypeEngine gives them to propeller: a LiteralMap by name. */
export function flytekitInputs(spec: Flyte1TaskSpec): MessageInitShape<typeof LiteralMapSchema> {
  return { literals: Object.fromEntries(Object.entries(spec.inputs ?? {}).flatMap(([k, v]) => (v.literal ? [[k, v.literal]] : []))) };
}

/** Flyte 1 propeller's task execution metadata, including the `overrides` Flyte 2 does not have. */
export const PROPELLER_METADATA = {
  taskExecutionId: {
    taskId: { resourceType: ResourceType.TASK, project: "flytesnacks", domain: "development", name: "workflows.example.task", version: "v1" },
    nodeExecutionId: { nodeId: "n0", executionId: { project: "flytesnacks", domain: "development", name: "f1abcdef" } },
    retryAttempt: 0,
  },
  namespace: "flytesnacks-development",
  labels: { "execution-id": "f1abcdef" },
  k8sServiceAccount: "default",
  maxAttempts: 1,
  overrides: { resources: { requests: [{ name: 1, value: "1" }] } },
};

/** A CreateTaskRequest as Flyte 1's propeller sends it. */
export function flyte1CreateRequest(spec: Flyte1TaskSpec): CreateTaskRequest {
  return create(CreateTaskRequestSchema, {
    inputs: flytekitInputs(spec),
    template: flytekitTemplate(spec),
    outputPrefix: "s3://my-s3-bucket/metadata/propeller/flytesnacks-development-f1abcdef/n0/data/0",
    taskExecutionMetadata: PROPELLER_METADATA as never,
  });
}

/**
 * One ExecuteTaskSync call over grpc-js, as propeller makes it: the header, one inputs message, half-close,
 * then every response until the server ends the stream. Rejects with the call's gRPC error.
 */
export function executeTaskSync(
  client: grpc.Client,
  messages: readonly MessageInitShape<typeof ExecuteTaskSyncRequestSchema>[],
  options: { timeoutMs?: number; halfClose?: boolean } = {},
): Promise<ExecuteTaskSyncResponse[]> {
  const method = SyncAgentService.method.executeTaskSync;
  const call = client.makeBidiStreamRequest<ExecuteTaskSyncRequest, ExecuteTaskSyncResponse>(
    `/${SyncAgentService.typeName}/${method.name}`,
    (m) => Buffer.from(toBinary(ExecuteTaskSyncRequestSchema, create(ExecuteTaskSyncRequestSchema, m))),
    (b) => fromBinary(ExecuteTaskSyncResponseSchema, b),
    new grpc.Metadata(),
    { deadline: Date.now() + (options.timeoutMs ?? 10_000) },
  );
  return new Promise((resolve, reject) => {
    const responses: ExecuteTaskSyncResponse[] = [];
    call.on("data", (r: ExecuteTaskSyncResponse) => responses.push(r));
    call.on("error", reject);
    call.on("end", () => resolve(responses));
    for (const m of messages) call.write(create(ExecuteTaskSyncRequestSchema, m));
    if (options.halfClose ?? true) call.end();
  });
}
