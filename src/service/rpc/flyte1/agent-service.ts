import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import * as admin from "#idl1/flyteidl/admin/agent_pb.js";
import { AsyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import * as connector from "#idl/flyteidl2/connector/connector_pb.js";
import type { ConnectorService } from "../connector-service.js";
import type { CallSignal } from "../connector-invoker.js";
import { callSignalOf, connectUnary, type UnaryHandlers, type UnaryService } from "../rpc-handlers.js";
import { flyte1ResourceFrom } from "./resource.js";
import { convertMessage } from "./wire.js";

/** `flyteidl.service.AsyncAgentService`, for both transports. */
export interface AgentService extends UnaryService<typeof AsyncAgentService> {
  readonly handlers: UnaryHandlers<typeof AsyncAgentService>;
  readonly connect: ServiceImpl<typeof AsyncAgentService>;
}

/** Requests that name their task by category; Flyte 1 propellers before task categories sent `task_type` only. */
interface CategorisedRequest {
  taskType: string;
  taskCategory?: admin.TaskCategory;
}

function withCategory<R extends CategorisedRequest>(req: R): R {
  if (!req.taskCategory && req.taskType !== "") req.taskCategory = create(admin.TaskCategorySchema, { name: req.taskType, version: 0 });
  return req;
}

/** Calls a Flyte 2 handler with the Flyte 1 request re-read as its Flyte 2 twin; resolves to the full response message. */
export async function viaFlyte2<I extends DescMessage, O extends DescMessage>(
  input: DescMessage,
  req: MessageShape<DescMessage>,
  flyte2Input: I,
  flyte2Output: O,
  handler: (req: MessageShape<I>) => unknown,
): Promise<MessageShape<O>> {
  return create(flyte2Output, (await handler(convertMessage(input, req, flyte2Input))) as MessageShape<O>);
}

/**
 * `flyteidl.service.AsyncAgentService`, Flyte 1's name for the same protocol: every call is the Flyte 2
 * service's own handler (and so its connector invoker), with the request and response re-read by bytes
 * (wire.ts), so both generations reach each connector through the same code and resource metadata is the same
 * bytes for both. Only what Flyte 1 has and Flyte 2 lacks is added here: the deprecated `state`, `agent_error`,
 * the deprecated `task_type` as a fallback category, and the deprecated plain-text log lines.
 */
export function createAgentService(flyte2: ConnectorService): AgentService {
  const f2 = flyte2.handlers;
  const handlers: AgentService["handlers"] = {
    async createTask(req, signal) {
      const res = await viaFlyte2(admin.CreateTaskRequestSchema, req, connector.CreateTaskRequestSchema, connector.CreateTaskResponseSchema, (r) =>
        f2.createTask(r, signal),
      );
      return { resourceMeta: res.resourceMeta };
    },
    async getTask(req, signal) {
      const res = await viaFlyte2(admin.GetTaskRequestSchema, withCategory(req), connector.GetTaskRequestSchema, connector.GetTaskResponseSchema, (r) =>
        f2.getTask(r, signal),
      );
      return { resource: flyte1ResourceFrom(res.resource) };
    },
    async deleteTask(req, signal) {
      await f2.deleteTask(convertMessage(admin.DeleteTaskRequestSchema, withCategory(req), connector.DeleteTaskRequestSchema), signal);
      return {};
    },
    async getTaskMetrics(req, signal) {
      const res = await viaFlyte2(
        admin.GetTaskMetricsRequestSchema,
        withCategory(req),
        connector.GetTaskMetricsRequestSchema,
        connector.GetTaskMetricsResponseSchema,
        (r) => f2.getTaskMetrics(r, signal),
      );
      return convertMessage(connector.GetTaskMetricsResponseSchema, res, admin.GetTaskMetricsResponseSchema);
    },
  };

  async function* getTaskLogs(req: admin.GetTaskLogsRequest, signal: CallSignal): AsyncGenerator<admin.GetTaskLogsResponse> {
    const request = convertMessage(admin.GetTaskLogsRequestSchema, withCategory(req), connector.GetTaskLogsRequestSchema);
    for await (const part of flyte2.getTaskLogs(request, signal)) {
      const out = convertMessage(connector.GetTaskLogsResponseSchema, part, admin.GetTaskLogsResponseSchema);
      // Agents before structured lines sent plain text; clients of that time still read it.
      if (out.part.case === "body") out.part.value.results = out.part.value.structuredLines.map((l) => l.message);
      yield out;
    }
  }

  return {
    service: AsyncAgentService,
    handlers,
    connect: {
      createTask: connectUnary(handlers.createTask),
      getTask: connectUnary(handlers.getTask),
      deleteTask: connectUnary(handlers.deleteTask),
      getTaskMetrics: connectUnary(handlers.getTaskMetrics),
      getTaskLogs: (req, ctx) => getTaskLogs(req, callSignalOf(ctx)),
    },
  };
}
