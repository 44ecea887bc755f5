import { createHash, randomUUID } from "node:crypto";
import type { TaskExecutionMetadata } from "#idl/flyteidl2/connector/connector_pb.js";

/**
 * The key that names one attempt of one task execution. The executor may call CreateTask again for the same
 * attempt after a crash (docs/flyte-executor.md §4.5); it sends the same task execution id and retry attempt,
 * so hashing them gives the same key, which a connector hands to its external system to deduplicate.
 * Without an execution id the output prefix stands in: the executor gives each attempt its own.
 */
export function idempotencyKeyFor(metadata: TaskExecutionMetadata | undefined, outputPrefix: string): string {
  const id = metadata?.taskExecutionId;
  let identity: string;
  if (id) {
    const exec = id.nodeExecutionId?.executionId;
    identity = JSON.stringify([
      exec?.org ?? "",
      exec?.project ?? "",
      exec?.domain ?? "",
      exec?.name ?? "",
      id.nodeExecutionId?.nodeId ?? "",
      id.taskId?.name ?? "",
      id.taskId?.version ?? "",
      id.retryAttempt,
    ]);
  } else if (outputPrefix) {
    identity = JSON.stringify(["output-prefix", outputPrefix]);
  } else {
    // Nothing identifies the attempt, so nothing can be deduplicated; a fresh key is the honest answer.
    identity = randomUUID();
  }
  return createHash("sha256").update(identity).digest("hex").slice(0, 32);
}
