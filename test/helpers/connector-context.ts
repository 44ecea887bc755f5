import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { TaskTemplateSchema, type TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import type { ConnectorContext, CreateRequest, GetContext } from "../../src/connectors/connector.js";
import { outputTypesOf } from "../../src/literals/convert.js";
import { silentLogger } from "../../src/log/logger.js";
import { secretLookup } from "../../src/secrets/secret-lookup.js";
import { DEFAULT_STORAGE_CONFIG } from "../../src/config/storage-config.js";
import { createStorage } from "../../src/storage/storage.js";
import { taskStorage } from "../../src/storage/task-storage.js";

/** A connector context as the service builds one per call, for tests that call a connector directly. */
export function connectorContext(options: {
  configs?: Record<string, string>;
  secrets?: Record<string, string>;
  signal?: AbortSignal;
  taskType?: string;
  outputPrefix?: string;
}): GetContext {
  const signal = options.signal ?? AbortSignal.timeout(10_000);
  const outputPrefix = options.outputPrefix ?? "";
  return {
    signal,
    log: silentLogger(),
    configs: options.configs ?? {},
    secrets: options.secrets ?? {},
    secret: secretLookup(options.secrets ?? {}),
    taskCategory: { name: options.taskType ?? "test", version: 0 },
    outputPrefix,
    storage: taskStorage(createStorage(DEFAULT_STORAGE_CONFIG), outputPrefix, signal),
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
