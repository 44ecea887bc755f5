import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { Resource } from "../../vendor/flyteidl2/flyteidl2/connector/connector_pb.js";
import type { AsyncConnectorService } from "../../vendor/flyteidl2/flyteidl2/connector/service_pb.js";
import { isTerminalPhase } from "./task-phase.js";
import { taskCategoryInit, type TaskCategoryRef } from "./task-ref.js";

/** Options of {@link followTask}. */
export interface FollowTaskOptions {
  /** Pause between GetTask calls; 1000 when not given. The executor itself polls every few seconds. */
  readonly intervalMs?: number;
  /** Stops following: the iterator then throws a ConnectError with code `Canceled`. */
  readonly signal?: AbortSignal;
  /** Passed as GetTask's output_prefix; connectors that write outputs use it. */
  readonly outputPrefix?: string;
  /** Deadline of each GetTask call. */
  readonly timeoutMs?: number;
}

/**
 * Polls GetTask and yields every resource it returns, ending after the first one in a terminal phase
 * (SUCCEEDED, FAILED, RETRYABLE_FAILED, ABORTED). A failed call ends the iteration with its ConnectError.
 *
 * @example
 * for await (const resource of clients.followTask({ name: "sleep" }, meta, { intervalMs: 500 })) {
 *   console.log(phaseName(resource.phase), resource.message);
 * }
 */
export async function* followTask(
  tasks: Client<typeof AsyncConnectorService>,
  category: TaskCategoryRef,
  resourceMeta: Uint8Array,
  options: FollowTaskOptions = {},
): AsyncGenerator<Resource, void, undefined> {
  const intervalMs = options.intervalMs ?? 1000;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new TypeError(`intervalMs must be a non-negative number, got ${intervalMs}`);
  const taskCategory = taskCategoryInit(category);
  for (;;) {
    const response = await tasks.getTask(
      { taskCategory, resourceMeta, outputPrefix: options.outputPrefix ?? "" },
      { signal: options.signal, timeoutMs: options.timeoutMs },
    );
    if (!response.resource) throw new ConnectError("GetTask answered without a resource", Code.Internal);
    yield response.resource;
    if (isTerminalPhase(response.resource.phase)) return;
    await pause(intervalMs, options.signal);
  }
}

/** Waits, or rejects as a cancelled call would when the signal fires first, so callers see one error type. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = () => new ConnectError("following the task was cancelled", Code.Canceled, undefined, undefined, signal?.reason);
    if (signal?.aborted) return reject(cancelled());
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
