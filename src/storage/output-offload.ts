import { create, toBinary } from "@bufbuild/protobuf";
import { GetTaskResponseSchema, ResourceSchema, type GetTaskResponse } from "#idl/flyteidl2/connector/connector_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { uriUnder } from "./flyte-uri.js";
import { OUTPUTS_FILE, outputsFileBytes } from "./outputs-file.js";
import { StorageError } from "./storage-error.js";
import type { Storage } from "./storage.js";

/** Options of {@link offloadOutputs}. */
export interface OffloadOptions {
  readonly storage: Storage;
  /** GetTaskRequest.output_prefix. */
  readonly outputPrefix: string;
  /** Responses above this size have their outputs written to `outputs.pb`. */
  readonly maxResponseBytes: number;
  /** The connector asked for `outputs.pb` even though the outputs would fit inline. */
  readonly always: boolean;
  readonly signal: AbortSignal;
}

/**
 * GetTask's outputs move to `<output_prefix>/outputs.pb` when the response would not fit what the executor
 * receives (or the connector asks for it): the file is written and durable first, and only then is the
 * answer SUCCEEDED without inline outputs, which tells the executor to read the file (docs/flyte-executor.md
 * §4.3). The bytes are deterministic, so a retried GetTask rewrites the same object. A write that fails is
 * RETRYABLE_FAILED naming the URI and the cause: a new attempt, never a lost output or an RPC error. An
 * abort (deadline, cancel) is rethrown for the service to answer with its status. Any other response is
 * returned as it is; one still too large is for `fitResponse`.
 */
export async function offloadOutputs(response: GetTaskResponse, options: OffloadOptions): Promise<GetTaskResponse> {
  const resource = response.resource;
  if (resource?.outputs === undefined || resource.phase !== TaskExecution_Phase.SUCCEEDED) return response;
  // The outputs are encoded once: their bytes give the response's size and are the file's content.
  const bytes = outputsFileBytes(resource.outputs);
  const withoutOutputs = create(GetTaskResponseSchema, { resource: { ...resource, outputs: undefined } });
  if (!options.always && responseSizeWith(withoutOutputs, bytes.length) <= options.maxResponseBytes) return response;
  // Without a prefix there is nowhere to write: the response goes on as it is, and fitResponse fails it.
  if (options.outputPrefix === "") return response;
  const uri = uriUnder(options.outputPrefix, OUTPUTS_FILE);
  try {
    await options.storage.write(uri, bytes, { signal: options.signal });
  } catch (err) {
    if (options.signal.aborted || !(err instanceof StorageError)) throw err;
    return create(GetTaskResponseSchema, {
      resource: {
        phase: TaskExecution_Phase.RETRYABLE_FAILED,
        logLinks: resource.logLinks,
        message: `the task's outputs could not be stored: ${err.message}`,
      },
    });
  }
  return withoutOutputs;
}

/**
 * The encoded size of `response` with `Resource.outputs` (field 2) of `outputsLength` bytes added.
 * @internal exported for its test
 */
export function responseSizeWith(response: GetTaskResponse, outputsLength: number): number {
  const resourceLength = toBinary(ResourceSchema, response.resource!).length + 1 + varintLength(outputsLength) + outputsLength;
  return 1 + varintLength(resourceLength) + resourceLength;
}

function varintLength(n: number): number {
  let length = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) length++;
  return length;
}
