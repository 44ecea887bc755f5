import { create } from "@bufbuild/protobuf";
import { AgentError_Kind, AgentErrorSchema, ResourceSchema, State, type Resource as Flyte1Resource } from "#idl1/flyteidl/admin/agent_pb.js";
import { ExecutionError_ErrorKind, TaskExecution_Phase as Flyte1Phase } from "#idl1/flyteidl/core/execution_pb.js";
import { ResourceSchema as Flyte2ResourceSchema, type Resource as Flyte2Resource } from "#idl/flyteidl2/connector/connector_pb.js";
import { TaskExecution_Phase as Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { convertMessage } from "./wire.js";

/**
 * The deprecated `state` for each phase. Propeller reads `phase` and falls back to `state` only when the phase is
 * UNDEFINED, where an unset state (0) means RETRYABLE_FAILURE; older agents' clients read `state` alone. Both
 * are always set, and agree.
 */
const STATE: Readonly<Record<number, State>> = {
  [Phase.QUEUED]: State.PENDING,
  [Phase.WAITING_FOR_RESOURCES]: State.PENDING,
  [Phase.INITIALIZING]: State.PENDING,
  [Phase.RUNNING]: State.RUNNING,
  [Phase.SUCCEEDED]: State.SUCCEEDED,
  [Phase.FAILED]: State.PERMANENT_FAILURE,
  [Phase.ABORTED]: State.PERMANENT_FAILURE,
  [Phase.RETRYABLE_FAILED]: State.RETRYABLE_FAILURE,
};

/** Failures carry `agent_error`: propeller takes its code as the task's error code and its kind as retryability. */
const AGENT_ERROR: Readonly<Record<number, { code: string; kind: AgentError_Kind; origin: ExecutionError_ErrorKind }>> = {
  [Phase.FAILED]: { code: "FAILED", kind: AgentError_Kind.NON_RECOVERABLE, origin: ExecutionError_ErrorKind.USER },
  [Phase.ABORTED]: { code: "ABORTED", kind: AgentError_Kind.NON_RECOVERABLE, origin: ExecutionError_ErrorKind.USER },
  [Phase.RETRYABLE_FAILED]: { code: "RETRYABLE_FAILED", kind: AgentError_Kind.RECOVERABLE, origin: ExecutionError_ErrorKind.SYSTEM },
};

/**
 * A Flyte 2 `Resource` as Flyte 1's: the same fields by their bytes (outputs become a `LiteralMap`), plus the
 * deprecated `state` and `agent_error`. The service never makes an UNDEFINED phase; if one came, it would be
 * sent as RETRYABLE_FAILED with a message rather than left for propeller to read as an unset state.
 */
export function flyte1ResourceFrom(resource: Flyte2Resource | undefined): Flyte1Resource {
  const out = convertMessage(Flyte2ResourceSchema, resource ?? create(Flyte2ResourceSchema), ResourceSchema);
  let phase = resource?.phase ?? Phase.UNDEFINED;
  if (STATE[phase] === undefined) {
    phase = Phase.RETRYABLE_FAILED;
    out.phase = Flyte1Phase.RETRYABLE_FAILED;
    out.message = `the connector service produced no phase for this task${out.message ? `: ${out.message}` : ""}`;
  }
  out.state = STATE[phase]!;
  const error = AGENT_ERROR[phase];
  if (error) out.agentError = create(AgentErrorSchema, error);
  return out;
}
