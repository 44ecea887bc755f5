// The baseline: a bare @grpc/grpc-js server doing the connector work of each benchmarked RPC (decode the
// request, find the connector, convert inputs or decode its JSON metadata, call it, build and encode the
// response) with none of our service around it: no limits, metrics, logs, auth or error mapping. It imports
// nothing from src/service, so it measures the same thing whatever shape the service takes.
// Prints {"port": N} when listening.
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  CreateTaskRequestSchema,
  CreateTaskResponseSchema,
  DeleteTaskRequestSchema,
  DeleteTaskResponseSchema,
  GetTaskRequestSchema,
  GetTaskResponseSchema,
  ListConnectorsRequestSchema,
  ListConnectorsResponseSchema,
} from "#idl/flyteidl2/connector/connector_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { builtinConnectors } from "../src/connectors/builtins.js";
import type { ConnectorContext } from "../src/connectors/connector.js";
import { DEFAULT_STORAGE_CONFIG } from "../src/config/storage-config.js";
import { createStorage } from "../src/storage/storage.js";
import { taskStorage } from "../src/storage/task-storage.js";
import { HealthCheckRequestSchema, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus } from "../src/gen/health/v1/health_pb.js";
import { outputTypesOf, valuesFromInputs } from "../src/literals/convert.js";
import { silentLogger } from "../src/log/logger.js";
import { createConnectorRegistry } from "../src/registry/connector-registry.js";

const registry = createConnectorRegistry(builtinConnectors());
const log = silentLogger();
const storage = createStorage(DEFAULT_STORAGE_CONFIG);

function unary<I extends DescMessage, O extends DescMessage>(
  path: string,
  input: I,
  output: O,
  handle: (req: MessageShape<I>) => Promise<MessageShape<O>> | MessageShape<O>,
): [grpc.MethodDefinition<MessageShape<I>, MessageShape<O>>, grpc.handleUnaryCall<MessageShape<I>, MessageShape<O>>] {
  const definition = {
    path,
    requestStream: false,
    responseStream: false,
    requestDeserialize: (b: Buffer) => fromBinary(input, b),
    requestSerialize: (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
    responseSerialize: (m: MessageShape<O>) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b: Buffer) => fromBinary(output, b),
  };
  const handler: grpc.handleUnaryCall<MessageShape<I>, MessageShape<O>> = (call, callback) => {
    Promise.resolve()
      .then(() => handle(call.request))
      .then(
        (res) => callback(null, res),
        (e: unknown) => callback({ code: grpc.status.INTERNAL, details: String(e) }),
      );
  };
  return [definition, handler];
}

function context(name: string, version: number): ConnectorContext & { outputPrefix: string } {
  const signal = new AbortController().signal;
  return {
    signal,
    log,
    secrets: {},
    secret: () => undefined,
    configs: {},
    taskCategory: { name, version },
    outputPrefix: "",
    storage: taskStorage(storage, "", signal),
  };
}

const PHASE: Readonly<Record<string, TaskExecution_Phase>> = TaskExecution_Phase as unknown as Record<string, TaskExecution_Phase>;

const methods = {
  createTask: unary("/flyteidl2.connector.AsyncConnectorService/CreateTask", CreateTaskRequestSchema, CreateTaskResponseSchema, async (req) => {
    const template = req.template!;
    const connector = registry.get(template.type, template.taskTypeVersion);
    const inputs = valuesFromInputs(req.inputs, template.interface);
    const meta = await connector.create(
      {
        template,
        inputs,
        outputPrefix: req.outputPrefix,
        taskExecutionMetadata: req.taskExecutionMetadata,
        idempotencyKey: "",
        outputTypes: outputTypesOf(template.interface),
      },
      context(template.type, template.taskTypeVersion),
    );
    return create(CreateTaskResponseSchema, { resourceMeta: connector.metadata.encode(meta) });
  }),
  getTask: unary("/flyteidl2.connector.AsyncConnectorService/GetTask", GetTaskRequestSchema, GetTaskResponseSchema, async (req) => {
    const { name, version } = req.taskCategory!;
    const connector = registry.get(name, version);
    const resource = await connector.get(connector.metadata.decode(req.resourceMeta), { ...context(name, version), outputPrefix: req.outputPrefix });
    return create(GetTaskResponseSchema, { resource: { phase: PHASE[resource.phase], message: resource.message ?? "" } });
  }),
  deleteTask: unary("/flyteidl2.connector.AsyncConnectorService/DeleteTask", DeleteTaskRequestSchema, DeleteTaskResponseSchema, async (req) => {
    const { name, version } = req.taskCategory!;
    const connector = registry.get(name, version);
    await connector.delete(connector.metadata.decode(req.resourceMeta), context(name, version));
    return create(DeleteTaskResponseSchema);
  }),
  listConnectors: unary("/flyteidl2.connector.ConnectorMetadataService/ListConnectors", ListConnectorsRequestSchema, ListConnectorsResponseSchema, () =>
    create(ListConnectorsResponseSchema, { connectors: registry.list().map((c) => ({ name: c.name, supportedTaskCategories: [...c.taskCategories] })) }),
  ),
  check: unary("/grpc.health.v1.Health/Check", HealthCheckRequestSchema, HealthCheckResponseSchema, () =>
    create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING }),
  ),
};

const server = new grpc.Server();
const entries = Object.entries(methods);
server.addService(
  Object.fromEntries(entries.map(([name, [definition]]) => [name, definition as grpc.MethodDefinition<unknown, unknown>])),
  Object.fromEntries(entries.map(([name, [, handler]]) => [name, handler as grpc.UntypedHandleCall])),
);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
