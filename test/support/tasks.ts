import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema, type CreateTaskRequest, type Resource } from "#idl/flyteidl2/connector/connector_pb.js";
import { type LiteralTypeSchema, SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import type { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import type { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { InputsSchema, type Outputs } from "#idl/flyteidl2/task/common_pb.js";
import { TypedInterfaceSchema } from "#idl/flyteidl2/core/interface_pb.js";
import { valuesFromInputs } from "../../src/literals/convert.js";
import type { GrpcJsClient } from "../helpers/grpc-js-client.js";
import { TaskTemplateSchema, type TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import type { CreateRequest } from "../../src/connectors/connector.js";
import { outputTypesOf } from "../../src/literals/convert.js";

type LiteralTypeInit = MessageInitShape<typeof LiteralTypeSchema>;
type LiteralInit = MessageInitShape<typeof LiteralSchema>;

export const INTEGER: LiteralTypeInit = { type: { case: "simple", value: SimpleType.INTEGER } };
export const FLOAT: LiteralTypeInit = { type: { case: "simple", value: SimpleType.FLOAT } };
export const STRING: LiteralTypeInit = { type: { case: "simple", value: SimpleType.STRING } };

export const intLiteral = (v: bigint | number): LiteralInit => ({ value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: BigInt(v) } } } } } });
export const floatLiteral = (v: number): LiteralInit => ({ value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "floatValue", value: v } } } } } });
export const stringLiteral = (v: string): LiteralInit => ({ value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: v } } } } } });

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
 * A CreateTaskRequest as the Flyte 2 executor builds it (executor-contract.md §2.2): inline template,
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
    inputs: { literals: inputs.filter(([, v]) => v.literal).map(([name, v]) => ({ name, value: v.literal })).reverse() },
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


export const TERMINAL_PHASES: ReadonlySet<TaskExecution_Phase> = new Set([
  TaskExecution_Phase.SUCCEEDED,
  TaskExecution_Phase.FAILED,
  TaskExecution_Phase.RETRYABLE_FAILED,
  TaskExecution_Phase.ABORTED,
]);

/** The phase's name, so that a failing expectation reads "FAILED", not 5. */
export function phaseName(phase: TaskExecution_Phase): string {
  return TaskExecution_Phase[phase] ?? String(phase);
}

export interface PollOptions {
  readonly category: { name: string; version: number };
  /** The task's connection: the executor sends it with every GetTask and DeleteTask. */
  readonly connection?: { configs: Record<string, string>; secrets: Record<string, string> };
  /** Stop after this many polls; the test fails with the phases seen. Default 300. */
  readonly maxPolls?: number;
  readonly intervalMs?: number;
  /** Stop as soon as a poll reports this phase (by default: a terminal phase). */
  readonly until?: (r: Resource) => boolean;
}

/**
 * Polls GetTask the way the executor does (10 s deadline per call) until the resource is terminal, and
 * returns the last resource with every phase seen.
 */
export async function pollTask(
  client: GrpcJsClient<typeof AsyncConnectorService>,
  resourceMeta: Uint8Array,
  options: PollOptions,
): Promise<{ resource: Resource; phases: string[] }> {
  const phases: string[] = [];
  const until = options.until ?? ((r: Resource) => TERMINAL_PHASES.has(r.phase));
  for (let i = 0; i < (options.maxPolls ?? 300); i++) {
    const got = await client.getTask(
      { taskCategory: options.category, resourceMeta, outputPrefix: "s3://bucket/out", connection: options.connection } as never,
      { timeoutMs: 10_000 },
    );
    const resource = got.resource!;
    if (phases.at(-1) !== phaseName(resource.phase)) phases.push(phaseName(resource.phase));
    if (until(resource)) return { resource, phases };
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
  throw new Error(`task did not reach the expected phase; phases seen: ${phases.join(" → ")}`);
}

/** Reads `Outputs` back into values by their types, with the service's own type engine. */
export function valuesFromOutputs(outputs: Outputs | undefined, types: Record<string, MessageInitShape<typeof LiteralTypeSchema>>): Record<string, unknown> {
  const iface = create(TypedInterfaceSchema, {
    inputs: { variables: Object.entries(types).map(([key, type]) => ({ key, value: { type } })) },
  });
  return valuesFromInputs(create(InputsSchema, { literals: outputs?.literals ?? [] }), iface);
}

/** A CreateRequest for a template, with inputs as values and output types from the template's interface. */
export function createRequest(
  template: MessageInitShape<typeof TaskTemplateSchema>,
  inputs: Record<string, unknown> = {},
  idempotencyKey = `key-${Math.random().toString(36).slice(2)}`,
): CreateRequest {
  const t: TaskTemplate = create(TaskTemplateSchema, template);
  return { template: t, inputs, outputPrefix: "s3://bucket/prefix", idempotencyKey, outputTypes: outputTypesOf(t.interface) };
}
