import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  GetTaskLogsResponseSchema,
  GetTaskResponseSchema,
  type GetTaskLogsResponse,
  type TaskCategory as TaskCategoryProto,
} from "#idl/flyteidl2/connector/connector_pb.js";
import type { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import type { Connection } from "#idl/flyteidl2/core/security_pb.js";
import { LogLineOriginator, type LogLineSchema } from "#idl/flyteidl2/logs/dataplane/payload_pb.js";
import type { AnyConnector, GetContext, LogsPage, TaskCategory } from "../connectors/connector.js";
import { ConnectorError } from "../connectors/errors.js";
import { connectorInputs } from "../connectors/connector-inputs.js";
import { outputTypesOf } from "../literals/convert.js";
import type { Logger } from "../log/logger.js";
import type { ConnectorRegistry } from "../registry/connector-registry.js";
import { connectErrorFrom, type ConnectorOperation } from "./error-mapping.js";
import { idempotencyKeyFor } from "./idempotency-key.js";
import type { RecentTasks } from "./recent-tasks.js";
import { secretLookup } from "../secrets/secret-lookup.js";
import { redactSecrets } from "./redact.js";
import { withSecretsRedacted } from "./redacting-logger.js";
import { fitResponse, resourceProtoFrom } from "./resource-proto.js";
import { checkResourceMetaSize } from "../connectors/resource-meta-limit.js";
import type { StorageConfig } from "../config/storage-config.js";
import { fetchOffloadedInputs } from "../storage/offloaded-inputs.js";
import { offloadOutputs } from "../storage/output-offload.js";
import type { Storage } from "../storage/storage.js";
import { taskStorage } from "../storage/task-storage.js";

/** Options of {@link createConnectorService}. */
export interface ConnectorServiceOptions {
  readonly registry: ConnectorRegistry;
  readonly log: Logger;
  /**
   * The largest GetTask response the caller accepts. grpc-go, and so the executor, receives at most 4 MiB
   * (executor-contract.md §3.2); larger outputs fail the job with a message instead of failing the RPC.
   */
  readonly maxResponseBytes: number;
  /** Largest resource metadata CreateTask returns; above it the call fails INTERNAL with what to do. */
  readonly maxResourceMetaBytes: number;
  /** Object stores: outputs.pb, offloaded input literals and the connectors' `ctx.storage`. */
  readonly storage: Storage;
  readonly storageConfig: StorageConfig;
  /** Where created tasks are remembered for the dashboard's "recent tasks"; nothing is kept when absent. */
  readonly recentTasks?: RecentTasks;
}

const NO_VALUES: Readonly<Record<string, string>> = Object.freeze({});

function connectionValues(connection: Connection | undefined) {
  return {
    secrets: Object.freeze({ ...(connection?.secrets ?? {}) }),
    configs: Object.freeze({ ...(connection?.configs ?? {}) }),
  };
}

function requireCategory(category: TaskCategoryProto | undefined): TaskCategory {
  if (!category || category.name === "") throw new ConnectError("task_category is required", Code.InvalidArgument);
  return { name: category.name, version: category.version };
}

/**
 * `flyteidl2.connector.AsyncConnectorService`: turns each RPC into a call on the registered connector, and
 * its result or failure back into protobuf. Nothing else lives here.
 */
export function createConnectorService(options: ConnectorServiceOptions): ServiceImpl<typeof AsyncConnectorService> {
  const { registry, log } = options;

  /** Runs one connector call with its context, mapping any failure through error-mapping. */
  async function call<T>(
    operation: ConnectorOperation,
    category: TaskCategory,
    ctx: HandlerContext,
    values: { secrets: Readonly<Record<string, string>>; configs: Readonly<Record<string, string>>; outputPrefix?: string },
    body: (connector: AnyConnector, cctx: GetContext) => Promise<T>,
  ): Promise<T> {
    try {
      const connector = registry.get(category.name, category.version);
      let childLog: Logger | undefined;
      const cctx: GetContext = {
        signal: ctx.signal,
        // Built on first use: most calls never log, and a pino child per call is measurable on GetTask.
        // A connector may log a URL or an upstream message that embeds a secret: its values are replaced.
        get log() {
          childLog ??= withSecretsRedacted(log.child({ rpc: ctx.method.name, taskType: category.name, taskTypeVersion: category.version }), values.secrets);
          return childLog;
        },
        secrets: values.secrets,
        secret: secretLookup(values.secrets),
        configs: values.configs,
        taskCategory: category,
        outputPrefix: values.outputPrefix ?? "",
        storage: taskStorage(options.storage, values.outputPrefix ?? "", ctx.signal),
      };
      return await body(connector, cctx);
    } catch (e) {
      const err = connectErrorFrom(e, { operation, taskType: category.name, secrets: values.secrets, signal: ctx.signal });
      if (err.code === Code.Internal) log.error({ rpc: ctx.method.name, taskType: category.name, err: redactSecrets(String(e instanceof Error ? e.stack : e), values.secrets) }, err.rawMessage);
      throw err;
    }
  }

  return {
    async createTask(req, ctx) {
      const template = req.template;
      if (!template) throw new ConnectError("template is required", Code.InvalidArgument);
      const category = { name: template.type, version: template.taskTypeVersion };
      const values = { ...connectionValues(req.connection), outputPrefix: req.outputPrefix };
      return call("create", category, ctx, values, async (connector, cctx) => {
        // Inputs are converted before the connector sees anything: a bad literal creates nothing.
        const literals = await fetchOffloadedInputs(req.inputs, options.storage, { maxBytes: options.storageConfig.maxOffloadedLiteralBytes, signal: ctx.signal });
        const inputs = connectorInputs(connector, literals, template.interface);
        cctx.log.info({ connector: connector.name }, "start creating the job");
        const meta = await connector.create(
          {
            template,
            inputs,
            outputPrefix: req.outputPrefix,
            taskExecutionMetadata: req.taskExecutionMetadata,
            idempotencyKey: idempotencyKeyFor(req.taskExecutionMetadata, req.outputPrefix),
            outputTypes: outputTypesOf(template.interface),
          },
          cctx,
        );
        const resourceMeta = connector.metadata.encode(meta);
        checkResourceMetaSize(resourceMeta, options.maxResourceMetaBytes, connector.name);
        options.recentTasks?.record(req, resourceMeta);
        return { resourceMeta };
      });
    },

    async getTask(req, ctx) {
      const category = requireCategory(req.taskCategory);
      const values = { ...connectionValues(req.connection), outputPrefix: req.outputPrefix };
      return call("get", category, ctx, values, async (connector, cctx) => {
        const meta = connector.metadata.decode(req.resourceMeta);
        let resource;
        try {
          resource = await connector.get(meta, cctx);
        } catch (e) {
          // A failed job is a phase the executor shows to the user, not an RPC error it counts (§4.5).
          if (!(e instanceof ConnectorError)) throw e;
          resource = { phase: e.retryable ? "RETRYABLE_FAILED" : "FAILED", message: e.message } as const;
        }
        const response = create(GetTaskResponseSchema, { resource: resourceProtoFrom(resource, connector, values.secrets) });
        const offloaded = await offloadOutputs(response, {
          storage: options.storage,
          outputPrefix: req.outputPrefix,
          maxResponseBytes: options.maxResponseBytes,
          always: resource.offloadOutputs === true,
          signal: ctx.signal,
        });
        return fitResponse(offloaded, options.maxResponseBytes);
      });
    },

    async deleteTask(req, ctx) {
      const category = requireCategory(req.taskCategory);
      const values = connectionValues(req.connection);
      return call("delete", category, ctx, values, async (connector, cctx) => {
        // Idempotence is the connector's contract (finished and unknown jobs answer OK, §4.6).
        await connector.delete(connector.metadata.decode(req.resourceMeta), cctx);
        return {};
      });
    },

    async getTaskMetrics(req, ctx) {
      const category = requireCategory(req.taskCategory);
      return call("get metrics of", category, ctx, { secrets: NO_VALUES, configs: NO_VALUES }, async (connector, cctx) => {
        if (!connector.getMetrics) throw new ConnectError(`connector ${connector.name} does not provide metrics`, Code.Unimplemented);
        const meta = connector.metadata.decode(req.resourceMeta);
        const results = await connector.getMetrics(
          meta,
          {
            queries: req.queries,
            startTime: dateOf(req.startTime),
            endTime: dateOf(req.endTime),
            stepMs: req.step ? Number(req.step.seconds) * 1000 + Math.round(req.step.nanos / 1e6) : 0,
          },
          cctx,
        );
        return { results: results.map((r) => ({ metric: r.metric, data: r.data })) };
      });
    },

    async *getTaskLogs(req, ctx) {
      const category = requireCategory(req.taskCategory);
      const pages = await call("get logs of", category, ctx, { secrets: NO_VALUES, configs: NO_VALUES }, async (connector, cctx) => {
        if (!connector.getLogs) throw new ConnectError(`connector ${connector.name} does not provide logs`, Code.Unimplemented);
        const meta = connector.metadata.decode(req.resourceMeta);
        const lines = req.lines > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(req.lines);
        return { pages: connector.getLogs(meta, { token: req.token, lines }, cctx) };
      });
      try {
        if (Symbol.asyncIterator in pages.pages) {
          for await (const page of pages.pages) yield* logResponsesFrom(page);
        } else {
          yield* logResponsesFrom(await pages.pages);
        }
      } catch (e) {
        throw connectErrorFrom(e, { operation: "get logs of", taskType: category.name, signal: ctx.signal });
      }
    },
  };
}

function dateOf(ts: Timestamp | undefined): Date | undefined {
  return ts ? timestampDate(ts) : undefined;
}

/** A page becomes a body with its lines, then a header with the next token if there is another page. */
function* logResponsesFrom(page: LogsPage): Generator<GetTaskLogsResponse> {
  const lines: MessageInitShape<typeof LogLineSchema>[] = page.lines.map((line) =>
    typeof line === "string"
      ? { message: line, originator: LogLineOriginator.UNKNOWN }
      : {
          message: line.message,
          originator: line.originator === "USER" ? LogLineOriginator.USER : line.originator === "SYSTEM" ? LogLineOriginator.SYSTEM : LogLineOriginator.UNKNOWN,
          timestamp: line.timestamp ? timestampFromDate(line.timestamp) : undefined,
        },
  );
  yield create(GetTaskLogsResponseSchema, { part: { case: "body", value: { lines } } });
  if (page.nextToken) yield create(GetTaskLogsResponseSchema, { part: { case: "header", value: { token: page.nextToken } } });
}
