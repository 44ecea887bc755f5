import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { GetTaskResponseSchema, ResourceSchema, type GetTaskResponse, type Resource as ResourceProto } from "#idl/flyteidl2/connector/connector_pb.js";
import { TaskExecution_Phase, TaskLog_LinkType, type TaskLogSchema } from "#idl/flyteidl2/core/execution_pb.js";
import type { AnyConnector, LogLink, Resource } from "../../connectors/connector.js";
import { PHASES, type Phase } from "../../connectors/phase.js";
import { outputsFromValues } from "../../literals/convert.js";
import { LiteralError } from "../../literals/errors.js";
import { redactSecrets } from "../pipeline/redact.js";

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

/** A connector bug the service cannot turn into a job phase, such as an unknown phase name. */
export class InvalidResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidResourceError";
  }
}

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

/**
 * Builds the proto Resource for GetTask. Outputs are typed by what the resource or the connector declares,
 * never guessed from runtime values (Python's `type(v)` guess pickles lists; python-reference.md §2.3).
 * A value that does not fit its declared type makes the job FAILED with a message that names the output:
 * the user can act on it, and the executor does not burn its few GetTask errors on it.
 */
export function resourceProtoFrom(resource: Resource, connector: AnyConnector, secrets: Readonly<Record<string, string>>): ResourceProto {
  if (!PHASES.includes(resource.phase)) {
    throw new InvalidResourceError(`connector ${connector.name} returned an unknown phase ${JSON.stringify(resource.phase)}`);
  }
  const base = {
    logLinks: (resource.logLinks ?? []).map(taskLogFrom),
    customInfo: resource.customInfo,
  };
  let phase = resource.phase;
  let message = resource.message ?? "";
  let outputs: ResourceProto["outputs"];
  if (resource.outputs !== undefined) {
    const types = resource.outputTypes ?? connector.outputTypes ?? {};
    try {
      outputs = outputsFromValues(resource.outputs as Readonly<Record<string, unknown>>, types);
    } catch (e) {
      if (!(e instanceof LiteralError)) throw e;
      phase = "FAILED";
      message = `connector ${connector.name} returned outputs that do not fit the task interface: ${e.message}`;
      outputs = undefined;
    }
  }
  return create(ResourceSchema, {
    ...base,
    phase: PHASE_TO_PROTO[phase],
    message: redactSecrets(message, secrets),
    outputs,
  });
}

const MiB = 1024 * 1024;

/**
 * Keeps a GetTask response under what the caller can receive. Above it, grpc-go would reject the response
 * and count a GetTask error; instead the job fails with a message that says what to do.
 */
export function fitResponse(response: GetTaskResponse, maxBytes: number): GetTaskResponse {
  const size = toBinary(GetTaskResponseSchema, response).length;
  if (size <= maxBytes) return response;
  const resource = response.resource;
  return create(GetTaskResponseSchema, {
    resource: {
      phase: TaskExecution_Phase.FAILED,
      logLinks: resource?.logLinks ?? [],
      message:
        `the task's outputs are ${(size / MiB).toFixed(1)} MiB, over the ${(maxBytes / MiB).toFixed(1)} MiB the executor accepts in one response; ` +
        `return large results as files, tables or other references instead of inline values`,
    },
  });
}
