import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { TaskTemplateSchema, type TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import type { CreateRequest } from "../../src/connectors/connector.js";
import { outputTypesOf } from "../../src/literals/convert.js";

/** A CreateRequest for a template, with inputs as values and output types from the template's interface. */
export function createRequest(
  template: MessageInitShape<typeof TaskTemplateSchema>,
  inputs: Record<string, unknown> = {},
  idempotencyKey = `key-${Math.random().toString(36).slice(2)}`,
): CreateRequest {
  const t: TaskTemplate = create(TaskTemplateSchema, template);
  return { template: t, inputs, outputPrefix: "s3://bucket/prefix", idempotencyKey, outputTypes: outputTypesOf(t.interface) };
}
