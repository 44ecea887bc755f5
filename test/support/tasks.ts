// Task requests as the executor sends them. Browser-safe: the web-client test page bundles it.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema, type CreateTaskRequest } from "#idl/flyteidl2/connector/connector_pb.js";
import { type LiteralTypeSchema, SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import type { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";

type LiteralTypeInit = MessageInitShape<typeof LiteralTypeSchema>;
type LiteralInit = MessageInitShape<typeof LiteralSchema>;

export const INTEGER: LiteralTypeInit = { type: { case: "simple", value: SimpleType.INTEGER } };
export const FLOAT: LiteralTypeInit = { type: { case: "simple", value: SimpleType.FLOAT } };
export const STRING: LiteralTypeInit = { type: { case: "simple", value: SimpleType.STRING } };

export const intLiteral = (v: bigint | number): LiteralInit => ({
  value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: BigInt(v) } } } } },
});
export const floatLiteral = (v: number): LiteralInit => ({
  value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "floatValue", value: v } } } } },
});
export const stringLiteral = (v: string): LiteralInit => ({
  value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: v } } } } },
});

export interface TaskSpec {
  readonly type: string;
  readonly version?: number;
  readonly inputs?: Record<string, { type: LiteralTypeInit; literal?: LiteralInit }>;
  readonly outputs?: Record<string, LiteralTypeInit>;
  readonly custom?: Record<string, unknown>;
  readonly secrets?: Record<string, string>;
  readonly configs?: Record<string, string>;
  readonly outputPrefix?: string;
  readonly retryAttempt?: number;
}

/**
 * A CreateTaskRequest as the Flyte 2 executor builds it (docs/flyte-executor.md §2.2): inline template,
 * inputs as NamedLiterals in no particular order, output prefix, execution metadata, connection.
 */
export function createTaskRequest(spec: TaskSpec): CreateTaskRequest {
  const inputs = Object.entries(spec.inputs ?? {});
  return create(CreateTaskRequestSchema, {
    template: {
      id: { name: `test.${spec.type}`, project: "flytesnacks", domain: "development", version: "v1" },
      type: spec.type,
      taskTypeVersion: spec.version ?? 0,
      interface: {
        inputs: { variables: inputs.map(([key, v]) => ({ key, value: { type: v.type } })).sort((a, b) => a.key.localeCompare(b.key)) },
        outputs: { variables: Object.entries(spec.outputs ?? {}).map(([key, type]) => ({ key, value: { type } })) },
      },
      custom: (spec.custom ?? {}) as never,
    },
    inputs: {
      literals: inputs
        .filter(([, v]) => v.literal)
        .map(([name, v]) => ({ name, value: v.literal }))
        .reverse(),
    },
    outputPrefix: spec.outputPrefix ?? "s3://bucket/ab/run-1/a0/0",
    taskExecutionMetadata: {
      taskExecutionId: {
        taskId: { name: `test.${spec.type}`, project: "flytesnacks", domain: "development", version: "v1" },
        nodeExecutionId: { nodeId: "a0", executionId: { project: "flytesnacks", domain: "development", name: "run-1" } },
        retryAttempt: spec.retryAttempt ?? 0,
      },
      namespace: "flytesnacks-development",
    },
    connection: { taskType: spec.type, secrets: spec.secrets ?? {}, configs: spec.configs ?? {} },
  });
}
