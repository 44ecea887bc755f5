import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { TaskTemplateSchema, type TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import type { ConnectorContext, CreateRequest, GetContext } from "../../src/connectors/connector.js";
import { outputTypesOf } from "../../src/literals/convert.js";
import { silentLogger } from "../../src/log/logger.js";
import { secretLookup } from "../../src/secrets/secret-lookup.js";

/** A connector context as the service builds one per call, for tests that call a connector directly. */
export function connectorContext(options: {
  configs?: Record<string, string>;
  secrets?: Record<string, string>;
  signal?: AbortSignal;
  taskType?: string;
}): GetContext {
  return {
    signal: options.signal ?? AbortSignal.timeout(10_000),
    log: silentLogger(),
    configs: options.configs ?? {},
    secrets: options.secrets ?? {},
    secret: secretLookup(options.secrets ?? {}),
    taskCategory: { name: options.taskType ?? "test", version: 0 },
    outputPrefix: "",
  } satisfies ConnectorContext & { outputPrefix: string };
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
