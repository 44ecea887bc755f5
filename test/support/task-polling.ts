import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { Resource } from "#idl/flyteidl2/connector/connector_pb.js";
import type { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { TypedInterfaceSchema } from "#idl/flyteidl2/core/interface_pb.js";
import type { LiteralTypeSchema } from "#idl/flyteidl2/core/types_pb.js";
import { InputsSchema, type Outputs } from "#idl/flyteidl2/task/common_pb.js";
import { valuesFromInputs } from "../../src/literals/convert.js";
import type { GrpcJsClient } from "../helpers/grpc-js-client.js";

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
