import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  GetTaskLogsResponseSchema,
  type GetTaskLogsRequest,
  type GetTaskLogsResponse,
  type TaskCategory as TaskCategoryProto,
} from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import type { Connection } from "#idl/flyteidl2/core/security_pb.js";
import { LogLineOriginator, type LogLineSchema } from "#idl/flyteidl2/logs/dataplane/payload_pb.js";
import type { LogsPage, TaskCategory } from "../../connectors/connector.js";
import { connectorInputsInSlices } from "../../connectors/connector-inputs.js";
import type { LargeWorkShare } from "../pipeline/large-request/large-work-share.js";
import type { LargeCallWorker } from "../large-calls/large-call-worker.js";
import { runLargeCallsOnWorker } from "../large-calls/run-on-worker.js";
import { outputTypesOf } from "../../literals/convert.js";
import type { Logger } from "../../log/logger.js";
import type { ConnectorRegistry } from "../../registry/connector-registry.js";
import type { ServiceSecrets } from "../../secrets/service-secrets.js";
import type { RecentTasks } from "../ops/recent-tasks.js";
import type { DeleteIgnoredReason } from "../pipeline/metrics.js";
import { createConnectorInvoker, type CallScope, type CallSignal } from "./connector-invoker.js";
import { connectErrorFrom } from "./error-mapping.js";
import { getTaskResponseFrom } from "./get-task-response.js";
import { offloadJobOutputs } from "./offload-job-outputs.js";
import { checkResourceMetaSize } from "../../connectors/resource-meta-limit.js";
import { runsWithInlineResults } from "../../connectors/sync-connector.js";
import type { StorageConfig } from "../../config/storage-config.js";
import { DEFAULT_STORAGE_CONFIG } from "../../config/storage-config.js";
import { fetchOffloadedInputs } from "../../storage/offloaded-inputs.js";
import { createStorage, type Storage } from "../../storage/storage.js";
import { idempotencyKeyFor } from "./idempotency-key.js";
import { callSignalOf, connectUnary, type UnaryHandlers, type UnaryService } from "./rpc-handlers.js";

/** Options of {@link createConnectorService}. */
export interface ConnectorServiceOptions {
  readonly registry: ConnectorRegistry;
  readonly log: Logger;
  /**
   * The largest GetTask response the caller accepts. grpc-go, and so the executor, receives at most 4 MiB;
   * larger outputs fail the job with a message instead of failing the RPC.
   */
  readonly maxResponseBytes: number;
  /** Largest resource metadata CreateTask returns (default 64 KiB); above it the call fails INTERNAL with what to do. */
  readonly maxResourceMetaBytes?: number;
  /** Object stores: outputs.pb, offloaded input literals and the connectors' `ctx.storage`. */
  readonly storage?: Storage;
  readonly storageConfig?: StorageConfig;
  /** Where created tasks are remembered for the dashboard's "recent tasks"; nothing is kept when absent. */
  readonly recentTasks?: RecentTasks;
  /** The service's own secret sources, behind the task's connection; their values are redacted too. */
  readonly serviceSecrets?: ServiceSecrets;
  /** A DeleteTask was answered OK with nothing to delete (it is logged too). */
  readonly onDeleteIgnored?: (taskType: string, reason: DeleteIgnoredReason) => void;
  /** Where a long conversion of CreateTask inputs takes its turns between slices. */
  readonly largeWork?: LargeWorkShare;
  /** Runs the calls whose request came as a large request's head (decode-request.ts). */
  readonly largeCalls?: LargeCallWorker;
}

/** `flyteidl2.connector.AsyncConnectorService`, for both transports: the unary methods, and GetTaskLogs for connect. */
export interface ConnectorService extends UnaryService<typeof AsyncConnectorService> {
  readonly handlers: UnaryHandlers<typeof AsyncConnectorService>;
  getTaskLogs(request: GetTaskLogsRequest, signal: CallSignal): AsyncIterable<GetTaskLogsResponse>;
  /** connect's form of the whole service. */
  readonly connect: ServiceImpl<typeof AsyncConnectorService>;
}

const NO_VALUES: Readonly<Record<string, string>> = Object.freeze({});

function connectionValues(connection: Connection | undefined): { secrets: Readonly<Record<string, string>>; configs: Readonly<Record<string, string>> } {
  const secrets = connection?.secrets;
  const configs = connection?.configs;
  return {
    secrets: secrets === undefined || Object.keys(secrets).length === 0 ? NO_VALUES : Object.freeze({ ...secrets }),
    configs: configs === undefined || Object.keys(configs).length === 0 ? NO_VALUES : Object.freeze({ ...configs }),
  };
}

function requireCategory(category: TaskCategoryProto | undefined): TaskCategory {
  if (!category || category.name === "") throw new ConnectError("task_category is required", Code.InvalidArgument);
  return { name: category.name, version: category.version };
}

/**
 * `flyteidl2.connector.AsyncConnectorService`: turns each RPC into a call on the registered connector through
 * the connector invoker, and its result back into protobuf. Nothing else lives here.
 */
export function createConnectorService(options: ConnectorServiceOptions): ConnectorService {
  const { registry, log } = options;
  const storageConfig = options.storageConfig ?? DEFAULT_STORAGE_CONFIG;
  const storage = options.storage ?? createStorage(storageConfig);
  const invoker = createConnectorInvoker({ log, serviceSecrets: options.serviceSecrets, storage });
  // A call's AbortSignal costs more than the rest of a small GetTask: storage options ask for it by a getter,
  // so it is built only when something is read or written.
  const abortSignalOf = (signal: CallSignal): AbortSignal => (signal instanceof AbortSignal ? signal : signal.signal);

  /** The connector for a category, with the Python service's NOT_FOUND for an unknown one. */
  const connectorFor = (category: TaskCategory, operation: "create" | "get" | "get logs of" | "get metrics of") => {
    try {
      return registry.get(category.name, category.version);
    } catch (e) {
      throw connectErrorFrom(e, { operation, taskType: category.name });
    }
  };

  const onLoop: ConnectorService["handlers"] = {
    async createTask(req, signal) {
      const template = req.template;
      if (!template) throw new ConnectError("template is required", Code.InvalidArgument);
      const taskCategory = { name: template.type, version: template.taskTypeVersion };
      const connector = connectorFor(taskCategory, "create");
      const scope: CallScope = { rpc: "CreateTask", taskCategory, ...connectionValues(req.connection), outputPrefix: req.outputPrefix, signal };
      let inputs: Record<string, unknown>;
      try {
        // Inputs are converted before the connector sees anything: a bad literal creates nothing. Offloaded
        // literals are fetched when conversion meets one (conversion does no I/O), then it starts over. A
        // maximum-size request converts for seconds: past one slice it continues in slices (a promise), so
        // that health and other calls are answered meanwhile; small inputs come back at once, no promise.
        const converted = connectorInputsInSlices(connector, req.inputs, template.interface, {
          signal,
          sliceMs: options.largeWork?.sliceMs,
          pause: options.largeWork?.pause,
          fetchOffloaded: (given) => fetchOffloadedInputs(given, storage, { maxBytes: storageConfig.maxOffloadedLiteralBytes, signal: abortSignalOf(signal) }),
        });
        inputs = converted instanceof Promise ? await converted : converted;
      } catch (e) {
        throw connectErrorFrom(e, { operation: "create", taskType: taskCategory.name, secrets: scope.secrets, signal });
      }
      let idempotencyKey: string | undefined;
      const resourceMeta = await invoker.create(
        connector,
        {
          template,
          inputs,
          outputPrefix: req.outputPrefix,
          taskExecutionMetadata: req.taskExecutionMetadata,
          // A hash, computed only for the connectors that hand it on.
          get idempotencyKey() {
            idempotencyKey ??= idempotencyKeyFor(req.taskExecutionMetadata, req.outputPrefix);
            return idempotencyKey;
          },
          outputTypes: outputTypesOf(template.interface),
        },
        scope,
      );
      try {
        // The executor stores it in its TaskAction and resends it on every poll (Flyte 2 only; a sync call keeps none).
        if (!runsWithInlineResults()) checkResourceMetaSize(resourceMeta, options.maxResourceMetaBytes ?? 64 * 1024, connector.name);
      } catch (e) {
        throw connectErrorFrom(e, { operation: "create", taskType: taskCategory.name, secrets: scope.secrets, signal });
      }
      options.recentTasks?.record(req, resourceMeta);
      return { resourceMeta };
    },

    async getTask(req, signal) {
      const taskCategory = requireCategory(req.taskCategory);
      const connector = connectorFor(taskCategory, "get");
      const state = await invoker.get(connector, req.resourceMeta, {
        rpc: "GetTask",
        taskCategory,
        ...connectionValues(req.connection),
        outputPrefix: req.outputPrefix,
        signal,
      });
      // ExecuteTaskSync answers its outputs inline, in the same call: nothing is offloaded for it.
      const offloaded = runsWithInlineResults()
        ? state
        : offloadJobOutputs(state, {
            storage,
            outputPrefix: req.outputPrefix,
            maxResponseBytes: options.maxResponseBytes,
            get signal() {
              return abortSignalOf(signal);
            },
          });
      return getTaskResponseFrom(offloaded instanceof Promise ? await offloaded : offloaded, options.maxResponseBytes);
    },

    // DeleteTask must not fail forever: the executor retries a failing delete every 10 s without limit while
    // the task's finalizer stays. A task type nobody serves (removed, misrouted) or metadata its connector
    // cannot read leave nothing this service could delete: answered OK, logged and counted.
    async deleteTask(req, signal) {
      const name = req.taskCategory?.name ?? "";
      const connector = name === "" ? undefined : registry.find(name, req.taskCategory?.version ?? 0);
      if (connector === undefined) {
        ignoredDelete(name, "unknown_task_type");
        return {};
      }
      const taskCategory = { name, version: req.taskCategory?.version ?? 0 };
      const outcome = await invoker.delete(connector, req.resourceMeta, { rpc: "DeleteTask", taskCategory, ...connectionValues(req.connection), signal });
      if (outcome === "unreadable") ignoredDelete(name, "unreadable_metadata");
      return {};
    },

    async getTaskMetrics(req, signal) {
      const taskCategory = requireCategory(req.taskCategory);
      const connector = connectorFor(taskCategory, "get metrics of");
      const results = await invoker.metrics(
        connector,
        req.resourceMeta,
        {
          queries: req.queries,
          startTime: dateOf(req.startTime),
          endTime: dateOf(req.endTime),
          stepMs: req.step ? Number(req.step.seconds) * 1000 + Math.round(req.step.nanos / 1e6) : 0,
        },
        { rpc: "GetTaskMetrics", taskCategory, secrets: NO_VALUES, configs: NO_VALUES, signal },
      );
      return { results: results.map((r) => ({ metric: r.metric, data: r.data })) };
    },
  };

  const handlers = options.largeCalls
    ? runLargeCallsOnWorker(onLoop, options.largeCalls, (head, resourceMeta) => options.recentTasks?.record(head, resourceMeta))
    : onLoop;

  function ignoredDelete(taskType: string, reason: DeleteIgnoredReason): void {
    log.warn({ rpc: "DeleteTask", taskType, reason }, "DeleteTask answered OK with nothing to delete");
    options.onDeleteIgnored?.(taskType, reason);
  }

  async function* getTaskLogs(req: GetTaskLogsRequest, signal: CallSignal): AsyncGenerator<GetTaskLogsResponse> {
    const taskCategory = requireCategory(req.taskCategory);
    const connector = connectorFor(taskCategory, "get logs of");
    const lines = req.lines > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(req.lines);
    const scope: CallScope = { rpc: "GetTaskLogs", taskCategory, secrets: NO_VALUES, configs: NO_VALUES, signal };
    for await (const page of invoker.logs(connector, req.resourceMeta, { token: req.token, lines }, scope)) yield* logResponsesFrom(page);
  }

  return {
    service: AsyncConnectorService,
    handlers,
    getTaskLogs,
    connect: {
      createTask: connectUnary(handlers.createTask),
      getTask: connectUnary(handlers.getTask),
      deleteTask: connectUnary(handlers.deleteTask),
      getTaskMetrics: connectUnary(handlers.getTaskMetrics),
      getTaskLogs: (req, ctx) => getTaskLogs(req, callSignalOf(ctx)),
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
