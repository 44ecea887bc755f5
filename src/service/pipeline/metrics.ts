import { Code } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { collectDefaultMetrics, Registry } from "prom-client";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import type { CallInfo, ConnectorOperation } from "./call-info.js";
import {
  CounterFamily,
  GaugeFamily,
  HistogramFamily,
  SummaryFamily,
  type CounterSeries,
  type GaugeSeries,
  type HistogramSeries,
  type SummarySeries,
} from "./metric-families.js";

/**
 * The service's Prometheus metrics, in a registry of its own (never prom-client's global one), so two
 * services in one process, or two tests, count separately.
 *
 * Series, with the Python service's names, help strings and labels (docs/python-service.md §3.3):
 * - `flyte_connector_requests_success_total{task_type, operation}`
 * - `flyte_connector_requests_failure_total{task_type, operation, error_code}`: error_code is the HTTP
 *   equivalent of the status, "404" and "500" as in Python, "429", "503", "504"… for what Python lacks
 * - `flyte_connector_request_latency_seconds{task_type, operation}`: a summary without quantiles
 * - `flyte_connector_input_literal_bytes{task_type}`: CreateTask only
 *
 * Beyond Python:
 * - `flyte_connector_request_duration_seconds{task_type, operation}`: a histogram, for quantiles
 * - `flyte_connector_get_task_phase_total{task_type, phase}`: GetTask answers by returned phase
 * - `flyte_connector_requests_in_flight{task_type, operation}`
 * - `flyte_connect_calls_shed_total{reason}`: calls refused by load shedding and concurrency limits
 * - `flyte_connect_delete_ignored_total{task_type, reason}`: DeleteTask answered OK with nothing to delete
 * - `grpc_server_started_total`, `grpc_server_handled_total`, `grpc_server_handling_seconds` with
 *   go-grpc-prometheus's labels (grpc_type, grpc_service, grpc_method, grpc_code) plus `protocol`, for every
 *   RPC including health and metadata, so the usual gRPC dashboards work
 * - process and Node.js metrics (`process_*`, `nodejs_*`) from prom-client
 *
 * Labels never carry request content beyond the task type, and a task type nobody registered is one of a
 * few bounded values: a caller cannot grow the registry without limit.
 *
 * The per-RPC series are plain numbers (metric-families.ts), looked up once per method, protocol and task
 * type and kept in a {@link CallMeter}: a call's updates are additions. prom-client keeps only the process
 * metrics; a scrape is both, in one text.
 */
export interface ServiceMetrics {
  /** What the metrics port serves. */
  readonly registry: MetricsRegistry;
  /** A call reached the service: counted now; its meter counts how it ends. */
  started(info: CallInfo): CallMeter;
  /** A call was refused to protect the service. */
  shed(reason: ShedReason): void;
  /** A DeleteTask answered OK with nothing to delete: no connector for its task type, or metadata none can read. */
  deleteIgnored(taskType: string, reason: DeleteIgnoredReason): void;
}

/** The Prometheus text of all the service's metrics. */
export interface MetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** The series of one method, protocol and task type; shared by all its calls. */
export interface CallMeter {
  /** CreateTask's inputs, encoded size in bytes. */
  inputBytes(bytes: number): void;
  /** A call ended; `code` is the status sent (undefined: OK), `phase` the GetTask phase if it answered one. */
  handled(info: CallInfo, code: Code | undefined, phase?: TaskExecution_Phase): void;
}

/** Why a DeleteTask was answered without a connector call. */
export type DeleteIgnoredReason = "unknown_task_type" | "unreadable_metadata";

/** Why a call was refused before any work was done. */
export type ShedReason =
  | "max_concurrent_calls"
  | "heap"
  | "connector_concurrency"
  | "streams_per_second"
  | "streams_per_connection"
  | "premature_resets"
  | "watch_streams"
  | "large_requests";

/** Options of {@link createServiceMetrics}. */
export interface ServiceMetricsOptions {
  /** Whether a task type name is registered; others are labelled with a bounded set of values. */
  readonly isKnownTaskType: (name: string) => boolean;
  /** Collect process and Node.js metrics (they install process-wide observers; default true). */
  readonly processMetrics?: boolean;
}

/** Operations the Python series count (it wraps only these three RPCs). */
const PYTHON_OPERATIONS: ReadonlySet<ConnectorOperation | undefined> = new Set(["create", "get", "delete"]);

/** Task type labels for types nobody registered: the first few names as sent, then "other". */
const MAX_UNKNOWN_TASK_TYPES = 16;

const GRPC_TYPES: Readonly<Record<string, string>> = {
  unary: "unary",
  server_streaming: "server_stream",
  client_streaming: "client_stream",
  bidi_streaming: "bidi_stream",
};

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const TASK_LABELS = ["task_type", "operation"] as const;
const RPC_LABELS = ["grpc_type", "grpc_service", "grpc_method"] as const;

export function createServiceMetrics(options: ServiceMetricsOptions): ServiceMetrics {
  const success = new CounterFamily("flyte_connector_requests_success_total", "Total number of successful requests", TASK_LABELS);
  const failure = new CounterFamily("flyte_connector_requests_failure_total", "Total number of failed requests", [...TASK_LABELS, "error_code"]);
  const latency = new SummaryFamily("flyte_connector_request_latency_seconds", "Time spent processing connector request", TASK_LABELS);
  const inputBytes = new SummaryFamily("flyte_connector_input_literal_bytes", "Size of input literal", ["task_type"]);
  const duration = new HistogramFamily(
    "flyte_connector_request_duration_seconds",
    "Time spent processing connector request, as a histogram",
    TASK_LABELS,
    DURATION_BUCKETS,
  );
  const phases = new CounterFamily("flyte_connector_get_task_phase_total", "GetTask responses by the phase they returned", ["task_type", "phase"]);
  const inFlight = new GaugeFamily("flyte_connector_requests_in_flight", "Connector requests being processed", TASK_LABELS);
  const shed = new CounterFamily("flyte_connect_calls_shed_total", "Calls refused to protect the service, by reason", ["reason"]);
  const deleteIgnored = new CounterFamily(
    "flyte_connect_delete_ignored_total",
    "DeleteTask calls answered OK without a connector call: unknown task type or unreadable resource metadata",
    ["task_type", "reason"],
  );
  const rpcStarted = new CounterFamily("grpc_server_started_total", "Total number of RPCs started on the server", [...RPC_LABELS, "protocol"]);
  const rpcHandled = new CounterFamily("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure", [
    ...RPC_LABELS,
    "protocol",
    "grpc_code",
  ]);
  const rpcSeconds = new HistogramFamily(
    "grpc_server_handling_seconds",
    "Histogram of response latency (seconds) of RPCs that had been application-level handled by the server",
    RPC_LABELS,
    DURATION_BUCKETS,
  );
  const families = [success, failure, latency, inputBytes, duration, phases, inFlight, shed, deleteIgnored, rpcStarted, rpcHandled, rpcSeconds];

  const processRegistry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: processRegistry });
  const registry: MetricsRegistry = {
    contentType: processRegistry.contentType,
    async metrics() {
      const process = await processRegistry.metrics();
      return `${families.map((f) => f.render()).join("\n\n")}\n${process === "\n" ? "" : `\n${process}`}`;
    },
  };

  const unknownTypes = new Set<string>();
  const taskTypeLabel = (name: string | undefined): string => {
    if (name === undefined || name === "") return "none";
    if (options.isKnownTaskType(name)) return name;
    if (unknownTypes.has(name)) return name;
    if (unknownTypes.size < MAX_UNKNOWN_TASK_TYPES && /^[A-Za-z0-9_.:-]{1,64}$/.test(name)) {
      unknownTypes.add(name);
      return name;
    }
    return "other";
  };

  /** The connector series of one task type and operation, shared by Flyte 1's and Flyte 2's methods. */
  class TaskSeries {
    readonly inFlight: GaugeSeries;
    readonly duration: HistogramSeries;
    readonly latency: SummarySeries | undefined;
    private successes: CounterSeries | undefined;
    private inputSizes: SummarySeries | undefined;
    private readonly failures: (CounterSeries | undefined)[] = [];
    private readonly phases: (CounterSeries | undefined)[] = [];
    constructor(
      private readonly taskType: string,
      private readonly operation: ConnectorOperation,
    ) {
      const labels = { task_type: taskType, operation };
      this.inFlight = inFlight.of(labels);
      this.duration = duration.of(labels);
      this.latency = PYTHON_OPERATIONS.has(operation) ? latency.of(labels) : undefined;
    }
    // Created on first use, as prom-client shows a series only once it has a value.
    success(): CounterSeries {
      this.successes ??= success.of({ task_type: this.taskType, operation: this.operation });
      return this.successes;
    }
    inputBytes(): SummarySeries {
      this.inputSizes ??= inputBytes.of({ task_type: this.taskType });
      return this.inputSizes;
    }
    failure(code: Code): CounterSeries {
      this.failures[code] ??= failure.of({ task_type: this.taskType, operation: this.operation, error_code: String(codeToHttpStatus(code)) });
      return this.failures[code];
    }
    phase(phase: TaskExecution_Phase): CounterSeries {
      this.phases[phase] ??= phases.of({ task_type: this.taskType, phase: TaskExecution_Phase[phase] ?? String(phase) });
      return this.phases[phase];
    }
  }

  class MethodMeter implements CallMeter {
    readonly started: CounterSeries;
    private readonly seconds: HistogramSeries;
    /** By status code; OK is 0, which no Code has. */
    private readonly handledByCode: (CounterSeries | undefined)[] = [];
    private readonly rpcLabels: Readonly<Record<(typeof RPC_LABELS)[number] | "protocol", string>>;
    constructor(
      info: CallInfo,
      readonly task: TaskSeries | undefined,
    ) {
      const grpcType = GRPC_TYPES[info.methodKind] ?? info.methodKind;
      this.rpcLabels = { grpc_type: grpcType, grpc_service: info.service, grpc_method: info.method, protocol: info.protocol };
      this.started = rpcStarted.of(this.rpcLabels);
      this.seconds = rpcSeconds.of(this.rpcLabels);
    }
    inputBytes(bytes: number): void {
      this.task?.inputBytes().observe(bytes);
    }
    handled(info: CallInfo, code: Code | undefined, phase?: TaskExecution_Phase): void {
      const seconds = (performance.now() - info.startedAt) / 1000;
      const index = code ?? 0;
      this.handledByCode[index] ??= rpcHandled.of({ ...this.rpcLabels, grpc_code: grpcCodeName(code) });
      this.handledByCode[index].inc();
      this.seconds.observe(seconds);
      const task = this.task;
      if (task === undefined) return;
      task.inFlight.dec();
      task.duration.observe(seconds);
      if (phase !== undefined) task.phase(phase).inc();
      if (task.latency === undefined) return;
      task.latency.observe(seconds);
      if (code === undefined) task.success().inc();
      else task.failure(code).inc();
    }
  }

  // Both caches are bounded: methods and protocols are fixed sets, task type labels are bounded above.
  const tasks = new Map<string, TaskSeries>();
  const meters = new Map<string, MethodMeter>();
  const meterOf = (info: CallInfo): MethodMeter => {
    const taskType = info.operation === undefined ? "" : taskTypeLabel(info.taskType);
    const key = `${info.service}/${info.method}\u0000${info.protocol}\u0000${taskType}`;
    let meter = meters.get(key);
    if (meter === undefined) {
      let task: TaskSeries | undefined;
      if (info.operation !== undefined) {
        const taskKey = `${taskType}\u0000${info.operation}`;
        task = tasks.get(taskKey);
        if (task === undefined) {
          task = new TaskSeries(taskType, info.operation);
          tasks.set(taskKey, task);
        }
      }
      meter = new MethodMeter(info, task);
      meters.set(key, meter);
    }
    return meter;
  };

  return {
    registry,
    started(info) {
      const meter = meterOf(info);
      meter.started.inc();
      meter.task?.inFlight.inc();
      return meter;
    },
    shed(reason) {
      shed.of({ reason }).inc();
    },
    deleteIgnored(taskType, reason) {
      deleteIgnored.of({ task_type: taskTypeLabel(taskType), reason }).inc();
    },
  };
}

/** grpc-go's names of the status codes (`codes.Code.String()`), as go-grpc-prometheus labels them. */
function grpcCodeName(code: Code | undefined): string {
  return code === undefined ? "OK" : (Code[code] ?? String(code));
}
