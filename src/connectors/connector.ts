import type { JsonObject } from "@bufbuild/protobuf";
import type { TaskExecutionMetadata } from "#idl/flyteidl2/connector/connector_pb.js";
import type { TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import type { LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import type { Logger } from "../log/logger.js";
import type { TaskStorage } from "../storage/task-storage.js";
import type { Phase } from "./phase.js";
import { jsonResourceMeta, type ResourceMetaCodec } from "./resource-meta.js";

/**
 * The contract between a connector and the service: everything a connector author needs is in this file.
 *
 * A connector starts a job on an external system in `create` and returns small metadata that identifies it;
 * the executor stores that metadata and hands it back to `get` (about every 30 s) until the job is terminal,
 * and to `delete` on abort, on retry and when the finished task is garbage-collected (docs/flyte-executor.md §4).
 */

/** The key the registry and the executor use to route a task: task type name and version. */
export interface TaskCategory {
  readonly name: string;
  readonly version: number;
}

/** A link the Flyte UI shows next to the task, such as a job console. */
export interface LogLink {
  readonly name: string;
  readonly uri: string;
  /** Shown while the task is still pending. */
  readonly showWhilePending?: boolean;
  /** Hidden once the task has finished. */
  readonly hideOnceFinished?: boolean;
  /** Whether the target is ready to be opened. */
  readonly ready?: boolean;
  readonly iconUri?: string;
  readonly linkType?: "EXTERNAL" | "DASHBOARD" | "IDE";
}

export type { TaskStorage } from "../storage/task-storage.js";

// Interfaces, not aliases of Readonly<Record<…>>: a connector's inferred `outputTypes` then prints as
// `import("flyte-connect").OutputTypes` in its declarations, instead of naming the vendored LiteralType (TS2883).

/** Output names and their declared Flyte types, as the task template's interface declares them. */
export interface OutputTypes {
  readonly [name: string]: LiteralType;
}

/** Input names and the Flyte types a connector takes them as; see `AsyncConnector.inputTypes`. */
export interface InputTypes {
  readonly [name: string]: LiteralType;
}

/** The state of a job, as `get` reports it. Plain data: compare with `toEqual`. */
export interface Resource<Outputs extends object = Record<string, unknown>> {
  readonly phase: Phase;
  /** Shown to the user; for FAILED and RETRYABLE_FAILED it becomes the task's error message. */
  readonly message?: string;
  /** Send them as early as possible and keep them stable: the executor may not republish changed links. */
  readonly logLinks?: readonly LogLink[];
  /** On SUCCEEDED: output values by output name, converted to literals by their declared types. */
  readonly outputs?: Outputs;
  /**
   * The declared types of `outputs`. A GetTask request carries no task template, so a connector whose
   * outputs follow the task's interface keeps `CreateRequest.outputTypes` in its metadata (see
   * `outputTypesToJson`) and returns them here. Not needed when the connector declares its interface.
   */
  readonly outputTypes?: OutputTypes;
  /** Free-form details for the UI. */
  readonly customInfo?: JsonObject;
  /**
   * Write `outputs` to `<output prefix>/outputs.pb` before answering, even when they would fit inline. The
   * service does so anyway when they would not fit the response limit (docs/storage.md).
   */
  readonly offloadOutputs?: boolean;
}

/** What every connector call may use. The service builds one per RPC. */
export interface ConnectorContext {
  /** Aborts at the caller's deadline, on cancel and when the server drains. Pass it to every I/O call. */
  readonly signal: AbortSignal;
  /** A child logger with the RPC and task type bound. */
  readonly log: Logger;
  /** `connection.secrets` with values resolved by the executor. Never log them. Empty for logs and metrics. */
  readonly secrets: Readonly<Record<string, string>>;
  /**
   * The secret named `name`: from the task's connection when the executor resolved it, otherwise from the
   * service's own secret sources; `undefined` when none has it. Prefer it to `secrets`. Never log the value.
   */
  secret(name: string): string | undefined;
  /** `connection.configs`. Empty for logs and metrics. */
  readonly configs: Readonly<Record<string, string>>;
  /** The task category this call was routed by. */
  readonly taskCategory: TaskCategory;
  /**
   * Object storage for this call: read offloaded inputs and other Flyte URIs (s3, gs, abfs, file), write
   * files and `outputs.pb` under the output prefix. Aborted with the call. See docs/storage.md.
   */
  readonly storage: TaskStorage;
}

/** A `get` call also knows where the task's outputs belong. */
export interface GetContext extends ConnectorContext {
  /** `<bucket>/<shard>/<run>/<action>/<attempt>`; empty if the executor did not send it. */
  readonly outputPrefix: string;
}

/** Everything `create` receives besides the context. */
export interface CreateRequest<Inputs extends object = Record<string, unknown>> {
  /** The rendered task template; `template.custom` holds the task's own configuration. */
  readonly template: TaskTemplate;
  /** Input values converted from Flyte literals by the template's interface. */
  readonly inputs: Inputs;
  /** Where `outputs.pb` goes if the connector writes outputs itself. */
  readonly outputPrefix: string;
  /** Task execution id, namespace, labels and the like; absent when the caller sent none. */
  readonly taskExecutionMetadata?: TaskExecutionMetadata;
  /**
   * The same string for every CreateTask of one task execution attempt: the executor may send CreateTask
   * twice for one attempt (docs/flyte-executor.md §4.5). Hand it to the external system to deduplicate.
   */
  readonly idempotencyKey: string;
  /** The declared output types of the template's interface. */
  readonly outputTypes: OutputTypes;
}

/** A `GetTaskLogs` call's paging: pass `nextToken` back as `token` for the next page. */
export interface LogsRequest {
  /** Empty for the first page. */
  readonly token: string;
  /** The number of lines asked for; 0 means the connector chooses. */
  readonly lines: number;
}

/** One log line. */
export interface LogEntry {
  readonly message: string;
  readonly timestamp?: Date;
  readonly originator?: "USER" | "SYSTEM";
}

/** One page of logs; `nextToken` is set only when another page exists. */
export interface LogsPage {
  readonly lines: readonly (LogEntry | string)[];
  readonly nextToken?: string;
}

/** A `GetTaskMetrics` call's query. */
export interface MetricsRequest {
  /** Empty means the connector's default set. */
  readonly queries: readonly string[];
  readonly startTime?: Date;
  readonly endTime?: Date;
  /** Resolution in milliseconds; 0 when not given. */
  readonly stepMs: number;
}

/** One metric's data, as `flyteidl2.core.ExecutionMetricResult`. */
export interface MetricResult {
  readonly metric: string;
  readonly data: JsonObject;
}

/**
 * The base class of every connector. Subclass it, declare the task type it serves, and implement
 * `create`, `get` and `delete`.
 *
 * A job that fails is not an exception: return `{ phase: "FAILED", message }` (or RETRYABLE_FAILED) from
 * `get`, or throw a {@link ConnectorError} there. Any other exception becomes an INTERNAL RPC error, and
 * the executor gives up on a task after a handful of those.
 *
 * @example
 * class SleepConnector extends AsyncConnector<{ until: number }> {
 *   readonly name = "Sleep Connector";
 *   readonly taskTypeName = "sleep";
 *   async create(req) { return { until: Date.now() + Number(req.inputs.seconds) * 1000 }; }
 *   async get(meta) { return { phase: Date.now() >= meta.until ? "SUCCEEDED" : "RUNNING" }; }
 *   async delete() {}
 * }
 */
export abstract class AsyncConnector<Meta extends object, Inputs extends object = Record<string, unknown>, Outputs extends object = Record<string, unknown>> {
  /** Groups task types in ListConnectors; several connectors may share a name. */
  abstract readonly name: string;
  /** Matched against `TaskTemplate.type`. Keep it lowercase: the executor lowercases config keys. */
  abstract readonly taskTypeName: string;
  /** Matched against `TaskTemplate.task_type_version`. */
  readonly taskTypeVersion: number = 0;
  /** How metadata becomes bytes; by default Python-compatible JSON. */
  readonly metadata: ResourceMetaCodec<Meta> = jsonResourceMeta<Meta>();
  /**
   * Declared output types, for connectors whose outputs do not depend on the task template. When set, they
   * type `Resource.outputs` unless the resource brings its own `outputTypes`.
   */
  readonly outputTypes?: OutputTypes;
  /**
   * Declared input types (`defineInterface(...).inputTypes`). When set, every task is checked against them
   * before `create` runs: an input the task template leaves out (unless Optional), declares with another
   * Flyte type, or declares in addition is INVALID_ARGUMENT naming it. Connectors whose `outputTypes` come
   * from a `defineInterface` with `inputs` are checked by those inputs without setting this.
   */
  readonly inputTypes?: InputTypes;

  /** Starts the job and returns at once with the metadata that identifies it. Must finish well under 10 s. */
  abstract create(request: CreateRequest<Inputs>, ctx: ConnectorContext): Promise<Meta>;
  /** Reports the job's state. Must finish well under 10 s. */
  abstract get(meta: Meta, ctx: GetContext): Promise<Resource<Outputs>>;
  /** Cancels the job. Must succeed for jobs that are finished, already cancelled or unknown. */
  abstract delete(meta: Meta, ctx: ConnectorContext): Promise<void>;
  /** Optional: one page of logs, or several pages as an async iterable. */
  getLogs?(meta: Meta, request: LogsRequest, ctx: ConnectorContext): Promise<LogsPage> | AsyncIterable<LogsPage>;
  /** Optional: metrics of the job. */
  getMetrics?(meta: Meta, request: MetricsRequest, ctx: ConnectorContext): Promise<readonly MetricResult[]>;
  /** Optional: releases pools and clients. The service calls it once, after in-flight calls have finished. */
  close?(): Promise<void>;
}

/** A connector of any metadata and value types, as the registry and the service hold them. */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds connectors of every Meta, Inputs and Outputs; `object` would make the service's calls to them ill-typed.
export type AnyConnector = AsyncConnector<any, any, any>;

/** The task category a connector serves. */
export function taskCategoryOf(connector: AnyConnector): TaskCategory {
  return { name: connector.taskTypeName, version: connector.taskTypeVersion };
}
