import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import * as admin from "#idl1/flyteidl/admin/agent_pb.js";
import type { LiteralMap } from "#idl1/flyteidl/core/literals_pb.js";
import type { SyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import * as connector from "#idl/flyteidl2/connector/connector_pb.js";
import { isSyncConnector, withInlineResults } from "../../../connectors/sync-connector.js";
import type { ConnectorRegistry } from "../../../registry/connector-registry.js";
import type { ConnectorService } from "../connector-service.js";
import { kPipelineCall } from "../../pipeline/connect-interceptor.js";
import { callSignalOf } from "../rpc-handlers.js";
import { viaFlyte2 } from "./agent-service.js";
import { flyte1ResourceFrom } from "./resource.js";

/**
 * `flyteidl.service.SyncAgentService`: ExecuteTaskSync runs a sync connector in one call. Propeller sends a
 * header, one inputs message and half-closes, then reads exactly one response, a header whose resource holds
 * the outputs inline; flytekit's server reads the same two messages. The work goes through the Flyte 2 service's
 * CreateTask and GetTask handlers, as for every connector, with the stored-result limit lifted: the metadata
 * never leaves this call. Bidirectional streaming needs HTTP/2 (gRPC, or Connect over h2c).
 */
export function createSyncAgentService(flyte2: ConnectorService, registry: ConnectorRegistry): ServiceImpl<typeof SyncAgentService> {
  return {
    async *executeTaskSync(requests, ctx) {
      const signal = callSignalOf(ctx);
      const { header, inputs } = await readSyncRequest(requests);
      const template = header.template;
      if (!template) throw new ConnectError("ExecuteTaskSync: the header has no template", Code.InvalidArgument);
      const found = registry.find(template.type, template.taskTypeVersion);
      if (found && !isSyncConnector(found)) {
        throw new ConnectError(
          `task type ${template.type} is served by an async connector: use AsyncAgentService.CreateTask (ListAgents reports is_sync: false)`,
          Code.FailedPrecondition,
        );
      }
      // The task type is known only from the header, after the pipeline admitted the stream: its connector
      // slot and time limit are taken here, as the pipeline takes them for the unary calls.
      const call = ctx.values.get(kPipelineCall);
      const limited = <T>(work: () => Promise<T>) => (call ? call.limitConnector(template.type, work) : work());
      const request = create(admin.CreateTaskRequestSchema, {
        template,
        inputs,
        outputPrefix: header.outputPrefix,
        taskExecutionMetadata: header.taskExecutionMetadata,
      });
      const resource = await limited(() =>
        withInlineResults(async () => {
          const created = await viaFlyte2(admin.CreateTaskRequestSchema, request, connector.CreateTaskRequestSchema, connector.CreateTaskResponseSchema, (r) =>
            flyte2.handlers.createTask(r, signal),
          );
          const got = await flyte2.handlers.getTask(
            create(connector.GetTaskRequestSchema, {
              resourceMeta: created.resourceMeta,
              taskCategory: { name: template.type, version: template.taskTypeVersion },
              outputPrefix: header.outputPrefix,
            }),
            signal,
          );
          return create(connector.GetTaskResponseSchema, got).resource;
        }),
      );
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
  // Nothing after the inputs is read: propeller half-closes there, and the one answer follows at once.
  return { header, inputs: second.value.part.value };
}
