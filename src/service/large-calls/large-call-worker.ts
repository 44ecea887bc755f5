import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "../../log/logger.js";
import type { DeleteIgnoredReason } from "../pipeline/metrics.js";
import type { CallSignal } from "../rpc/connector-invoker.js";
import type { FromWorker, LargeCallMethod, ToWorker, WorkerInit } from "./worker-protocol.js";

/**
 * Where the worker's entry module is: beside this module when unbundled (dist/service/large-calls/), beside
 * the CLI bundle or one level up from its chunks (dist/bin/), or the TypeScript source (tests, tsx), which
 * tsx compiles in the worker too.
 */
const ENTRY_CANDIDATES: readonly { readonly url: URL; readonly source: boolean }[] = [
  { url: new URL("./worker-main.js", import.meta.url), source: false },
  { url: new URL("./flyte-connect-worker.mjs", import.meta.url), source: false },
  { url: new URL("../flyte-connect-worker.mjs", import.meta.url), source: false },
  { url: new URL("./worker-main.ts", import.meta.url), source: true },
];

/** A worker on the entry; node 20 does not apply an `--import`ed loader to a worker's entry, so tsx loads the source. */
function startWorker(entry: (typeof ENTRY_CANDIDATES)[number], workerData: WorkerInit): Worker {
  if (!entry.source) return new Worker(entry.url, { workerData });
  const href = JSON.stringify(entry.url.href);
  return new Worker(`import("tsx/esm/api").then((tsx) => tsx.tsImport(${href}, ${href}))`, { eval: true, workerData });
}

/** Options of {@link LargeCallWorker}. */
export interface LargeCallWorkerOptions {
  readonly init: WorkerInit;
  readonly log: Logger;
  /** A DeleteTask the worker answered OK with nothing to delete, to be counted like the event loop's. */
  readonly onDeleteIgnored?: (taskType: string, reason: DeleteIgnoredReason) => void;
}

interface Pending {
  readonly resolve: (response: Uint8Array) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Runs the large requests' connector calls on a worker thread. A maximum-size CreateTask costs a few hundred
 * milliseconds of decoding and conversion, and building the 200 000-key object its connector receives costs
 * garbage collections and hash-table growths of 10-60 ms that no slicing can split; on a thread of its own,
 * with its own heap, none of it stops the event loop that answers health and the executor's small calls
 * (docs/operations.md, "Large requests"). The worker loads the same connectors and builds the same connector
 * service from the same configuration; it is another replica in the same process, which every connector
 * already allows for (the executor may poll any replica, so a task's state lives in its resource metadata or
 * its external system, never in the replica's memory).
 *
 * Started on the first large request, so a service that never gets one pays nothing for it. A worker that
 * dies fails its calls UNAVAILABLE (the executor retries those) and a new one starts with the next call.
 */
export class LargeCallWorker {
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: LargeCallWorkerOptions) {}

  /** Runs `method` on the encoded request; resolves with the encoded response, rejects with a ConnectError. */
  async run(method: LargeCallMethod, request: Uint8Array, signal: CallSignal): Promise<Uint8Array> {
    if (this.closed) throw new ConnectError("the service is shutting down", Code.Unavailable);
    const worker = await this.started();
    const abort = signal instanceof AbortSignal ? signal : signal.signal;
    abort.throwIfAborted();
    const id = this.nextId++;
    // A copy the worker owns: the request may be a view into a larger buffer the transport still holds.
    const own = new Uint8Array(request);
    return new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = () => {
        this.post(worker, { kind: "abort", id, message: abort.reason instanceof Error ? abort.reason.message : "the call was cancelled" });
        this.settle(id)?.reject(abort.reason);
      };
      abort.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: (r) => {
          abort.removeEventListener("abort", onAbort);
          resolve(r);
        },
        reject: (e) => {
          abort.removeEventListener("abort", onAbort);
          reject(e);
        },
      });
      this.post(worker, { kind: "call", id, method, request: own }, [own.buffer as ArrayBuffer]);
    });
  }

  /** Lets the calls in flight finish (the drain bounds how long), then stops the worker and its connectors. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 10_000);
      worker.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      this.post(worker, { kind: "close" });
    });
  }

  private started(): Promise<Worker> {
    this.ready ??= new Promise<Worker>((resolve, reject) => {
      const entry = ENTRY_CANDIDATES.find((c) => existsSync(fileURLToPath(c.url)));
      if (entry === undefined) {
        reject(new ConnectError("the large-request worker's entry module is missing from this installation", Code.Internal));
        return;
      }
      const worker = startWorker(entry, this.options.init);
      this.worker = worker;
      worker.on("message", (message: FromWorker) => {
        if (message.kind === "ready") resolve(worker);
        else if (message.kind === "startFailed") reject(new ConnectError(`the large-request worker did not start: ${message.message}`, Code.Unavailable));
        else if (message.kind === "answer") this.settle(message.id)?.resolve(message.response);
        else if (message.kind === "deleteIgnored") this.options.onDeleteIgnored?.(message.taskType, message.reason);
        else if (message.kind === "error") {
          this.settle(message.id)?.reject(new ConnectError(message.message, message.code as Code, new Headers(message.metadata)));
        }
      });
      worker.once("error", (e) => this.options.log.error({ err: e }, "the large-request worker failed"));
      worker.once("exit", (code) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        const gone = new ConnectError(`the large-request worker stopped (exit code ${code}); retry the call`, Code.Unavailable);
        reject(gone);
        for (const id of [...this.pending.keys()]) this.settle(id)?.reject(gone);
      });
    });
    return this.ready;
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private post(worker: Worker, message: ToWorker, transfer?: ArrayBuffer[]): void {
    worker.postMessage(message, transfer);
  }
}
