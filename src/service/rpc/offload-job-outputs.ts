import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { offloadOutputs } from "../../storage/output-offload.js";
import type { Storage } from "../../storage/storage.js";
import type { JobState } from "./connector-invoker.js";
import { getTaskResponseFrom } from "./get-task-response.js";

/**
 * GetTask's outputs written to `<output_prefix>/outputs.pb` when the response would be over the limit (or the
 * connector asked for it): the job's state without inline outputs once the file is durable, or
 * RETRYABLE_FAILED naming the URI when it could not be written (see src/storage/output-offload.ts).
 */
export function offloadJobOutputs(state: JobState, options: OffloadOptions): JobState | Promise<JobState> {
  // Most polls have no outputs: they get the state back as it is, without a promise to wait for.
  if (state.outputs === undefined || state.phase !== "SUCCEEDED") return state;
  return offload(state, options);
}

interface OffloadOptions {
  readonly storage: Storage;
  readonly outputPrefix: string;
  readonly maxResponseBytes: number;
  readonly signal: AbortSignal;
}

async function offload(state: JobState, options: OffloadOptions): Promise<JobState> {
  const response = getTaskResponseFrom(state, Number.MAX_SAFE_INTEGER);
  const after = await offloadOutputs(response, { ...options, always: state.offloadOutputs === true });
  if (after === response) return state;
  if (after.resource?.phase === TaskExecution_Phase.RETRYABLE_FAILED)
    return { phase: "RETRYABLE_FAILED", message: after.resource.message, logLinks: state.logLinks };
  return { ...state, outputs: undefined, outputTypes: undefined };
}
