import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { GetTaskResponseSchema, type GetTaskResponse } from "#idl/flyteidl2/connector/connector_pb.js";
import { TaskExecution_Phase, TaskLog_LinkType, type TaskLogSchema } from "#idl/flyteidl2/core/execution_pb.js";
import type { LogLink } from "../../connectors/connector.js";
import type { Phase } from "../../connectors/phase.js";
import type { JobState } from "./connector-invoker.js";

const PHASE_TO_PROTO: Readonly<Record<Phase, TaskExecution_Phase>> = {
  QUEUED: TaskExecution_Phase.QUEUED,
  WAITING_FOR_RESOURCES: TaskExecution_Phase.WAITING_FOR_RESOURCES,
  INITIALIZING: TaskExecution_Phase.INITIALIZING,
  RUNNING: TaskExecution_Phase.RUNNING,
  SUCCEEDED: TaskExecution_Phase.SUCCEEDED,
  FAILED: TaskExecution_Phase.FAILED,
  RETRYABLE_FAILED: TaskExecution_Phase.RETRYABLE_FAILED,
  ABORTED: TaskExecution_Phase.ABORTED,
};

const LINK_TYPE: Readonly<Record<NonNullable<LogLink["linkType"]>, TaskLog_LinkType>> = {
  EXTERNAL: TaskLog_LinkType.EXTERNAL,
  DASHBOARD: TaskLog_LinkType.DASHBOARD,
  IDE: TaskLog_LinkType.IDE,
};

function taskLogFrom(link: LogLink): MessageInitShape<typeof TaskLogSchema> {
  return {
    name: link.name,
    uri: link.uri,
    ShowWhilePending: link.showWhilePending ?? false,
    HideOnceFinished: link.hideOnceFinished ?? false,
    ready: link.ready ?? false,
    iconUri: link.iconUri ?? "",
    linkType: LINK_TYPE[link.linkType ?? "EXTERNAL"],
  };
}

const MiB = 1024 * 1024;

/**
 * The one place a GetTask response is built, from the job's state as the invoker reports it. It is kept
 * under what the caller can receive (`maxResponseBytes`): above it grpc-go would reject the response and
 * count a GetTask error; instead the job fails with a message that says what to do.
 */
export function getTaskResponseFrom(state: JobState, maxResponseBytes: number): GetTaskResponse {
  const logLinks = state.logLinks.map(taskLogFrom);
  const response = create(GetTaskResponseSchema, {
    resource: { phase: PHASE_TO_PROTO[state.phase], message: state.message, logLinks, customInfo: state.customInfo, outputs: state.outputs },
  });
  // Without outputs a response is a phase, a message and links: far below any limit, not worth encoding twice.
  if (state.outputs === undefined && state.message.length < 64 * 1024) return response;
  const size = toBinary(GetTaskResponseSchema, response).length;
  if (size <= maxResponseBytes) return response;
  return create(GetTaskResponseSchema, {
    resource: {
      phase: TaskExecution_Phase.FAILED,
      logLinks,
      message:
        `the task's outputs are ${(size / MiB).toFixed(1)} MiB, over the ${(maxResponseBytes / MiB).toFixed(1)} MiB the executor accepts in one response; ` +
        `return large results as files, tables or other references instead of inline values`,
    },
  });
}
