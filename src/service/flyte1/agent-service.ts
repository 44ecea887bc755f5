import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import * as admin from "#idl1/flyteidl/admin/agent_pb.js";
import type { LiteralMap } from "#idl1/flyteidl/core/literals_pb.js";
import type { AsyncAgentService, SyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import * as connector from "#idl/flyteidl2/connector/connector_pb.js";
import type { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { isSyncConnector, withInlineResults } from "../../connectors/sync-connector.js";
import type { ConnectorRegistry } from "../../registry/connector-registry.js";
import { flyte1ResourceFrom } from "./resource.js";
import { convertMessage } from "./wire.js";

type ConnectorServiceImpl = ServiceImpl<typeof AsyncConnectorService>;

/** Requests that name their task by category; Flyte 1 propellers before task categories sent `task_type` only. */
interface CategorisedRequest {
  taskType: string;
  taskCategory?: admin.TaskCategory;
}

function withCategory<R extends CategorisedRequest>(req: R): R {
  if (!req.taskCategory && req.taskType !== "") req.taskCategory = create(admin.TaskCategorySchema, { name: req.taskType, version: 0 });
  return req;
}

/** Calls a Flyte 2 method with the Flyte 1 request re-read as its Flyte 2 twin; returns the full response message. */
async function viaFlyte2<I extends DescMessage, O extends DescMessage>(
  input: DescMessage,
  req: MessageShape<DescMessage>,
  flyte2Input: I,
  flyte2Output: O,
  method: (req: MessageShape<I>) => Promise<unknown> | unknown,
): Promise<MessageShape<O>> {
  return create(flyte2Output, (await method(convertMessage(input, req, flyte2Input))) as MessageShape<O>);
}

/**
 * `flyteidl.service.AsyncAgentService`, Flyte 1's name for the same protocol: every call is the Flyte 2
 * service's own (`AsyncConnectorService`), with its request and response re-read by bytes (wire.ts), so both
 * generations reach each connector through the same code, and resource metadata is the same bytes for both.
 * Only what Flyte 1 has and Flyte 2 lacks is added here: the deprecated `state`, `agent_error`, the deprecated
 * `task_type` as a fallback category, and the deprecated plain-text log lines.
 */
export function createAgentService(flyte2: ConnectorServiceImpl): ServiceImpl<typeof AsyncAgentService> {
  return {
    async createTask(req, ctx) {
      const res = await viaFlyte2(admin.CreateTaskRequestSchema, req, connector.CreateTaskRequestSchema, connector.CreateTaskResponseSchema, (r) => flyte2.createTask(r, ctx));
      return { resourceMeta: res.resourceMeta };
    },
    async getTask(req, ctx) {
      const res = await viaFlyte2(admin.GetTaskRequestSchema, withCategory(req), connector.GetTaskRequestSchema, connector.GetTaskResponseSchema, (r) => flyte2.getTask(r, ctx));
      return { resource: flyte1ResourceFrom(res.resource) };
    },
    async deleteTask(req, ctx) {
      await flyte2.deleteTask(convertMessage(admin.DeleteTaskRequestSchema, withCategory(req), connector.DeleteTaskRequestSchema), ctx);
      return {};
    },
    async getTaskMetrics(req, ctx) {
      const res = await viaFlyte2(
        admin.GetTaskMetricsRequestSchema,
        withCategory(req),
        connector.GetTaskMetricsRequestSchema,
        connector.GetTaskMetricsResponseSchema,
        (r) => flyte2.getTaskMetrics(r, ctx),
      );
      return convertMessage(connector.GetTaskMetricsResponseSchema, res, admin.GetTaskMetricsResponseSchema);
    },
    async *getTaskLogs(req, ctx) {
      const request = convertMessage(admin.GetTaskLogsRequestSchema, withCategory(req), connector.GetTaskLogsRequestSchema);
      for await (const part of flyte2.getTaskLogs(request, ctx)) {
        const out = convertMessage(connector.GetTaskLogsResponseSchema, create(connector.GetTaskLogsResponseSchema, part), admin.GetTaskLogsResponseSchema);
        // Agents before structured lines sent plain text; clients of that time still read it.
        if (out.part.case === "body") out.part.value.results = out.part.value.structuredLines.map((l) => l.message);
        yield out;
      }
    },
  };
}

/**
 * `flyteidl.service.SyncAgentService`: ExecuteTaskSync runs a sync connector in one call. Propeller sends a
 * header, one inputs message and half-closes, then reads exactly one response, a header whose resource holds
 * the outputs inline; flytekit's client does the same. The work goes through the Flyte 2 service's CreateTask
 * and GetTask, as for every connector, with the stored-result limit lifted: the metadata never leaves this call.
 */
export function createSyncAgentService(flyte2: ConnectorServiceImpl, registry: ConnectorRegistry): ServiceImpl<typeof SyncAgentService> {
  return {
    async *executeTaskSync(requests, ctx) {
      const { header, inputs } = await readSyncRequest(requests);
      const template = header.template;
      if (!template) throw new ConnectError("the header has no template", Code.InvalidArgument);
      const found = registry.find(template.type, template.taskTypeVersion);
      if (found && !isSyncConnector(found)) {
        throw new ConnectError(`task type ${template.type} is served by an async connector: use AsyncAgentService.CreateTask (ListAgents reports is_sync: false)`, Code.FailedPrecondition);
      }
      const createRequest = create(admin.CreateTaskRequestSchema, {
        template,
        inputs,
        outputPrefix: header.outputPrefix,
        taskExecutionMetadata: header.taskExecutionMetadata,
      });
      const resource = await withInlineResults(async () => {
        const created = await viaFlyte2(admin.CreateTaskRequestSchema, createRequest, connector.CreateTaskRequestSchema, connector.CreateTaskResponseSchema, (r) =>
          flyte2.createTask(r, ctx),
        );
        const got = await flyte2.getTask(
          create(connector.GetTaskRequestSchema, {
            resourceMeta: created.resourceMeta,
            taskCategory: { name: template.type, version: template.taskTypeVersion },
            outputPrefix: header.outputPrefix,
          }),
          ctx,
        );
        return create(connector.GetTaskResponseSchema, got).resource;
      });
      yield { res: { case: "header", value: { resource: flyte1ResourceFrom(resource) } } };
    },
  };
}

/** The header and the inputs, in that order; the inputs message may be left out for a task without inputs. */
async function readSyncRequest(requests: AsyncIterable<admin.ExecuteTaskSyncRequest>): Promise<{ header: admin.CreateRequestHeader; inputs?: LiteralMap }> {
  const it = requests[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.part.case !== "header") {
    throw new ConnectError("ExecuteTaskSync: the first message must be the header (template, output prefix, task execution metadata)", Code.InvalidArgument);
  }
  const header = first.value.part.value;
  const second = await it.next();
  if (second.done) return { header };
  if (second.value.part.case !== "inputs") throw new ConnectError("ExecuteTaskSync: the second message must be the inputs", Code.InvalidArgument);
  // Anything after the inputs is not read: propeller half-closes there, and the one answer follows.
  return { header, inputs: second.value.part.value };
}
