// The baseline: a bare @grpc/grpc-js server doing GetTask's work — decode the request, look up the
// connector, decode its JSON metadata, call `get`, build and encode the proto Resource — with none of our
// service around it. Prints {"port": N} when listening.
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { GetTaskRequestSchema, GetTaskResponseSchema, type GetTaskRequest, type GetTaskResponse } from "#idl/flyteidl2/connector/connector_pb.js";
import { builtinConnectors } from "../src/connectors/builtins.js";
import { createConnectorRegistry } from "../src/registry/connector-registry.js";
import { resourceProtoFrom } from "../src/service/resource-proto.js";
import { silentLogger } from "../src/log/logger.js";
import { DEFAULT_STORAGE_CONFIG } from "../src/config/storage-config.js";
import { createStorage } from "../src/storage/storage.js";
import { taskStorage } from "../src/storage/task-storage.js";

const registry = createConnectorRegistry(builtinConnectors());
const log = silentLogger();
const storage = createStorage(DEFAULT_STORAGE_CONFIG);
const server = new grpc.Server();
server.addService(
  {
    getTask: {
      path: "/flyteidl2.connector.AsyncConnectorService/GetTask",
      requestStream: false,
      responseStream: false,
      requestDeserialize: (b: Buffer) => fromBinary(GetTaskRequestSchema, b),
      requestSerialize: (m: GetTaskRequest) => Buffer.from(toBinary(GetTaskRequestSchema, m)),
      responseSerialize: (m: GetTaskResponse) => Buffer.from(toBinary(GetTaskResponseSchema, m)),
      responseDeserialize: (b: Buffer) => fromBinary(GetTaskResponseSchema, b),
    },
  },
  {
    getTask: (call: grpc.ServerUnaryCall<GetTaskRequest, GetTaskResponse>, callback: grpc.sendUnaryData<GetTaskResponse>) => {
      const req = call.request;
      const connector = registry.get(req.taskCategory!.name, req.taskCategory!.version);
      const meta = connector.metadata.decode(req.resourceMeta);
      const ac = new AbortController();
      connector
        .get(meta, { signal: ac.signal, log, secrets: {}, secret: () => undefined, configs: {}, taskCategory: { name: req.taskCategory!.name, version: 0 }, outputPrefix: req.outputPrefix, storage: taskStorage(storage, req.outputPrefix, ac.signal) })
        .then((resource: Parameters<typeof resourceProtoFrom>[0]) => callback(null, create(GetTaskResponseSchema, { resource: resourceProtoFrom(resource, connector, {}) })))
        .catch((e: unknown) => callback({ code: grpc.status.INTERNAL, details: String(e) }));
    },
  },
);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
