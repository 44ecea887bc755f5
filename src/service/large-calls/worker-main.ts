// The large-request worker thread (large-call-worker.ts): the same connectors and connector service as the
// event loop's, built from the same configuration, running the connector calls of large requests.
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { connectorRegistryFrom } from "../../registry/load-modules.js";
import { createLogger, flushLogger } from "../../log/logger.js";
import { decodeRequestMessage } from "../pipeline/decode-request.js";
import { configuredConnectorService } from "../rpc/configured-connector-service.js";
import { LARGE_CALL_SCHEMAS } from "./large-call-methods.js";
import type { FromWorker, ToWorker, WorkerInit } from "./worker-protocol.js";

/** Lower than the event loop's 0; a CPU-bound thread at 10 gets about a tenth of a core it contends for. */
const WORKER_NICE = 10;

const port = parentPort;
if (port === null) throw new Error("worker-main runs as a worker thread");
const init = workerData as WorkerInit;
const send = (message: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

lowerThisThreadsPriority();

const log = createLogger({ level: init.logLevel }).child({ thread: "large-request-worker" });
const calls = new Map<number, AbortController>();

/**
 * On a busy machine the event loop's thread goes first: this thread runs at a lower priority (nice 10). Linux
 * keeps a nice value per thread and takes a thread id where setpriority(2) takes a pid; elsewhere, or when
 * it is refused, the worker runs at the process's priority.
 */
function lowerThisThreadsPriority(): void {
  try {
    const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(threadId) && threadId !== process.pid) setPriority(threadId, WORKER_NICE);
  } catch {
    // Not Linux, or not allowed: same priority as the event loop.
  }
}

function errorMessage(id: number, e: unknown): FromWorker {
  // As the event loop answers them: what is not a ConnectError is INTERNAL.
  const err = ConnectError.from(e, Code.Internal);
  return { kind: "error", id, code: err.code, message: err.rawMessage, metadata: [...err.metadata] };
}

try {
  const registry = await connectorRegistryFrom(init.connectors);
  // No share of the loop to wait for: this thread serves only other large calls and their aborts.
  const service = configuredConnectorService(init.config, registry, log, {
    onDeleteIgnored: (taskType, reason) => send({ kind: "deleteIgnored", taskType, reason }),
  });
  const handlers = service.handlers as unknown as Record<string, (req: unknown, signal: AbortSignal) => unknown>;

  port.on("message", (message: ToWorker) => {
    if (message.kind === "abort") {
      calls.get(message.id)?.abort(new ConnectError(message.message, Code.Canceled));
      return;
    }
    if (message.kind === "close") {
      void registry.close().finally(() => {
        flushLogger(log);
        send({ kind: "closed" });
        port.close();
      });
      return;
    }
    const { id, method, request } = message;
    const schemas = LARGE_CALL_SCHEMAS[method];
    const controller = new AbortController();
    calls.set(id, controller);
    void (async () => {
      try {
        // Large maps stay in the request's bytes until conversion reads them (decode-in-slices.ts).
        const req = await decodeRequestMessage(schemas.request, request, 0);
        const response = await handlers[method]!(req, controller.signal);
        const bytes = toBinary(schemas.response, create(schemas.response, response as MessageInitShape<DescMessage>));
        send({ kind: "answer", id, response: bytes }, [bytes.buffer as ArrayBuffer]);
      } catch (e) {
        send(errorMessage(id, e));
      } finally {
        calls.delete(id);
      }
    })();
  });
  send({ kind: "ready" });
} catch (e) {
  send({ kind: "startFailed", message: e instanceof Error ? e.message : String(e) });
  flushLogger(log);
  port.close();
}
