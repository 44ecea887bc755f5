import { PassThrough } from "node:stream";
import { create, toJson, type MessageInitShape } from "@bufbuild/protobuf";
import type { CreateTaskRequest, Resource } from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { RuntimeMetadata_RuntimeType, SqlSchema, Sql_Dialect, TaskMetadataSchema } from "#idl/flyteidl2/core/tasks_pb.js";
import type { LiteralTypeSchema } from "#idl/flyteidl2/core/types_pb.js";
import type { AnyConnector } from "../../src/connectors/connector.js";
import { createLogger } from "../../src/log/logger.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient, type GrpcJsClient } from "./grpc-js-client.js";
import { pollTask, type PollOptions } from "../support/task-polling.js";
import { createTaskRequest, type TaskSpec } from "../support/tasks.js";

type LiteralTypeInit = MessageInitShape<typeof LiteralTypeSchema>;

/** flyte-sdk's `DataFrame` output type: a structured dataset with format "" and no columns. */
export const DATAFRAME: LiteralTypeInit = { type: { case: "structuredDatasetType", value: { format: "" } } };

/**
 * The real service with one warehouse connector, a grpc-js client standing in for the executor, and every
 * debug log line and every message the client saw kept for the secret scan.
 */
export interface WarehouseService {
  readonly service: RunningService;
  readonly client: GrpcJsClient<typeof AsyncConnectorService>;
  /** Log output and every resource message and error detail seen so far. */
  everythingWritten(): string;
  /** Keeps a message or error detail for the secret scan. */
  saw(text: string | undefined): void;
  close(): Promise<void>;
}

export async function startWarehouseService(connector: AnyConnector): Promise<WarehouseService> {
  const logStream = new PassThrough();
  let text = "";
  logStream.on("data", (d: Buffer) => (text += d.toString()));
  const service = await startService({ registry: createConnectorRegistry([connector]), log: createLogger({ level: "debug", destination: logStream }) });
  const client = grpcJsClient(AsyncConnectorService, service.address);
  return {
    service,
    client,
    everythingWritten: () => text,
    saw: (t) => {
      if (t) text += `\n${t}`;
    },
    close: async () => {
      client.close();
      await service.close();
      await connector.close?.();
    },
  };
}

/**
 * A CreateTaskRequest for a SQL task as flyte-sdk serializes one (task_serde.py): `template.sql` with the
 * statement and the ANSI dialect, no container, `custom` as the plugin's `custom_config()`, the runtime
 * version in `metadata.runtime`, and the executor's resolved secrets in the connection.
 */
export function sqlTaskRequest(spec: TaskSpec & { statement: string; runtimeVersion?: string }): CreateTaskRequest {
  const request = createTaskRequest(spec);
  const template = request.template!;
  template.target = { case: "sql", value: create(SqlSchema, { statement: spec.statement, dialect: Sql_Dialect.ANSI }) };
  template.metadata = create(TaskMetadataSchema, {
    runtime: { type: RuntimeMetadata_RuntimeType.FLYTE_SDK, version: spec.runtimeVersion ?? "2.0.0", flavor: "python" },
  });
  // Each test's task is a new execution: a new idempotency key.
  request.taskExecutionMetadata!.taskExecutionId!.nodeExecutionId!.executionId!.name = `run-${Math.random().toString(36).slice(2)}`;
  return request;
}

/** The `results` literal of a resource as proto-JSON, to compare with the literal Python writes. */
export function resultsLiteralJson(resource: Resource): unknown {
  const results = resource.outputs?.literals.find((l) => l.name === "results");
  return results?.value ? toJson(LiteralSchema, results.value) : undefined;
}

/** The literal the Python connectors return for `DataFrame(uri=U)`. */
export function pythonDatasetLiteralJson(uri: string): unknown {
  return { scalar: { structuredDataset: { uri, metadata: { structuredDatasetType: {} } } } };
}

/** Polls through the service with the executor's deadline until terminal (or `until`). */
export function pollWith(svc: WarehouseService, options: PollOptions) {
  return async (meta: Uint8Array, until?: PollOptions["until"]) => {
    const result = await pollTask(svc.client, meta, { intervalMs: 50, ...options, ...(until ? { until } : {}) });
    svc.saw(result.resource.message);
    return result;
  };
}
