import { fromBinary } from "@bufbuild/protobuf";
import type { CreateTaskRequest } from "#idl/flyteidl2/connector/connector_pb.js";
import type { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import type { CallSignal } from "../rpc/connector-invoker.js";
import type { UnaryHandlers } from "../rpc/rpc-handlers.js";
import type { LargeCallWorker } from "./large-call-worker.js";
import { LARGE_CALL_SCHEMAS } from "./large-call-methods.js";
import { requestBytesOf } from "./request-head.js";
import type { LargeCallMethod } from "./worker-protocol.js";

type Handlers = UnaryHandlers<typeof AsyncConnectorService>;

/**
 * The connector service's handlers, with the calls whose request is a large request's head (request-head.ts)
 * run on the worker instead: the head's task type and connection have served the call pipeline, the worker
 * decodes the whole request and runs the same handler. `onCreated` sees what a CreateTask created, as the
 * event loop's handler would have recorded it.
 */
export function runLargeCallsOnWorker(
  handlers: Handlers,
  worker: LargeCallWorker,
  onCreated?: (head: CreateTaskRequest, resourceMeta: Uint8Array) => void,
): Handlers {
  const viaWorker = async <M extends LargeCallMethod>(method: M, bytes: Uint8Array, signal: CallSignal) =>
    fromBinary<(typeof LARGE_CALL_SCHEMAS)[M]["response"]>(LARGE_CALL_SCHEMAS[method].response, await worker.run(method, bytes, signal));
  return {
    async createTask(req, signal) {
      const bytes = requestBytesOf(req);
      if (bytes === undefined) return handlers.createTask(req, signal);
      const response = await viaWorker("createTask", bytes, signal);
      onCreated?.(req, response.resourceMeta);
      return response;
    },
    getTask(req, signal) {
      const bytes = requestBytesOf(req);
      return bytes === undefined ? handlers.getTask(req, signal) : viaWorker("getTask", bytes, signal);
    },
    deleteTask(req, signal) {
      const bytes = requestBytesOf(req);
      return bytes === undefined ? handlers.deleteTask(req, signal) : viaWorker("deleteTask", bytes, signal);
    },
    getTaskMetrics(req, signal) {
      const bytes = requestBytesOf(req);
      return bytes === undefined ? handlers.getTaskMetrics(req, signal) : viaWorker("getTaskMetrics", bytes, signal);
    },
  };
}
