import { Code } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import type { CallInfo, ConnectorOperation } from "./call-info.js";

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
 */
export interface ServiceMetrics {
  readonly registry: Registry;
  /** A call reached the service. */
  started(info: CallInfo): void;
  /** CreateTask's inputs, encoded size in bytes. */
  inputBytes(info: CallInfo, bytes: number): void;
  /** A call ended; `code` is the status sent (undefined: OK), `phase` the GetTask phase if it answered one. */
  handled(info: CallInfo, code: Code | undefined, phase?: TaskExecution_Phase): void;
  /** A call was refused to protect the service. */
  shed(reason: ShedReason): void;
  /** A DeleteTask answered OK with nothing to delete: no connector for its task type, or metadata none can read. */
  deleteIgnored(taskType: string, reason: DeleteIgnoredReason): void;
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

export function createServiceMetrics(options: ServiceMetricsOptions): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  const taskLabels = ["task_type", "operation"] as const;

  const success = new Counter({
    name: "flyte_connector_requests_success_total",
    help: "Total number of successful requests",
    labelNames: taskLabels,
    registers,
  });
  const failure = new Counter({
    name: "flyte_connector_requests_failure_total",
    help: "Total number of failed requests",
    labelNames: [...taskLabels, "error_code"] as const,
    registers,
  });
  const latency = new Summary({
    name: "flyte_connector_request_latency_seconds",
    help: "Time spent processing connector request",
    labelNames: taskLabels,
    percentiles: [],
    registers,
  });
  const inputBytes = new Summary({
    name: "flyte_connector_input_literal_bytes",
    help: "Size of input literal",
    labelNames: ["task_type"] as const,
    percentiles: [],
    registers,
  });
  const duration = new Histogram({
    name: "flyte_connector_request_duration_seconds",
    help: "Time spent processing connector request, as a histogram",
    labelNames: taskLabels,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const phases = new Counter({
    name: "flyte_connector_get_task_phase_total",
    help: "GetTask responses by the phase they returned",
    labelNames: ["task_type", "phase"] as const,
    registers,
  });
  const inFlight = new Gauge({ name: "flyte_connector_requests_in_flight", help: "Connector requests being processed", labelNames: taskLabels, registers });
  const shed = new Counter({
    name: "flyte_connect_calls_shed_total",
    help: "Calls refused to protect the service, by reason",
    labelNames: ["reason"] as const,
    registers,
  });
  const deleteIgnored = new Counter({
    name: "flyte_connect_delete_ignored_total",
    help: "DeleteTask calls answered OK without a connector call: unknown task type or unreadable resource metadata",
    labelNames: ["task_type", "reason"] as const,
    registers,
  });
  const rpcLabels = ["grpc_type", "grpc_service", "grpc_method", "protocol"] as const;
  const rpcStarted = new Counter({ name: "grpc_server_started_total", help: "Total number of RPCs started on the server", labelNames: rpcLabels, registers });
  const rpcHandled = new Counter({
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure",
    labelNames: [...rpcLabels, "grpc_code"] as const,
    registers,
  });
  const rpcSeconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of RPCs that had been application-level handled by the server",
    labelNames: ["grpc_type", "grpc_service", "grpc_method"] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

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
  const rpcLabelsOf = (info: CallInfo) => ({
    grpc_type: GRPC_TYPES[info.methodKind] ?? info.methodKind,
    grpc_service: info.service,
    grpc_method: info.method,
    protocol: info.protocol,
  });

  return {
    registry,
    started(info) {
      rpcStarted.inc(rpcLabelsOf(info));
      if (info.operation !== undefined) inFlight.inc({ task_type: taskTypeLabel(info.taskType), operation: info.operation });
    },
    inputBytes(info, bytes) {
      inputBytes.observe({ task_type: taskTypeLabel(info.taskType) }, bytes);
    },
    handled(info, code, phase) {
      const seconds = (performance.now() - info.startedAt) / 1000;
      const labels = rpcLabelsOf(info);
      rpcHandled.inc({ ...labels, grpc_code: grpcCodeName(code) });
      rpcSeconds.observe({ grpc_type: labels.grpc_type, grpc_service: labels.grpc_service, grpc_method: labels.grpc_method }, seconds);
      if (info.operation === undefined) return;
      const task = { task_type: taskTypeLabel(info.taskType), operation: info.operation };
      inFlight.dec(task);
      duration.observe(task, seconds);
      if (phase !== undefined) phases.inc({ task_type: task.task_type, phase: TaskExecution_Phase[phase] ?? String(phase) });
      if (!PYTHON_OPERATIONS.has(info.operation)) return;
      latency.observe(task, seconds);
      if (code === undefined) success.inc(task);
      else failure.inc({ ...task, error_code: String(codeToHttpStatus(code)) });
    },
    shed(reason) {
      shed.inc({ reason });
    },
    deleteIgnored(taskType, reason) {
      deleteIgnored.inc({ task_type: taskTypeLabel(taskType), reason });
    },
  };
}

/** grpc-go's names of the status codes (`codes.Code.String()`), as go-grpc-prometheus labels them. */
function grpcCodeName(code: Code | undefined): string {
  return code === undefined ? "OK" : (Code[code] ?? String(code));
}
