import { createClient, type CallOptions, type Client } from "@connectrpc/connect";
import type { Connector, Resource } from "../../vendor/flyteidl2/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService, ConnectorMetadataService } from "../../vendor/flyteidl2/flyteidl2/connector/service_pb.js";
import type { LogLine } from "../../vendor/flyteidl2/flyteidl2/logs/dataplane/payload_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { followTask, type FollowTaskOptions } from "./follow-task.js";
import { streamLogs, type StreamLogsOptions } from "./stream-logs.js";
import type { TaskCategoryRef } from "./task-ref.js";
import { transportFromOptions, type TransportOptions } from "./transport-from-options.js";

/** Options of {@link createConnectorClients}. */
export type ConnectorClientsOptions = TransportOptions;

/** The serving status names of grpc.health.v1, as a dashboard shows them. */
export type ServingStatusName = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

/** Typed clients of one connector service, and what a dashboard or script needs on top of them. */
export interface ConnectorClients {
  /** `flyteidl2.connector.AsyncConnectorService`: CreateTask, GetTask, DeleteTask, GetTaskMetrics, GetTaskLogs. */
  readonly tasks: Client<typeof AsyncConnectorService>;
  /** `flyteidl2.connector.ConnectorMetadataService`: ListConnectors, GetConnector. */
  readonly metadata: Client<typeof ConnectorMetadataService>;
  /** `grpc.health.v1.Health`: Check, and Watch (server-streaming). */
  readonly health: Client<typeof Health>;
  /** The connectors the service runs, with their task categories. */
  listConnectors(options?: CallOptions): Promise<Connector[]>;
  /** The service's health ("" is the whole server, as Kubernetes probes ask). */
  servingStatus(service?: string, options?: CallOptions): Promise<ServingStatusName>;
  /** Polls a task until it is terminal, yielding each resource; see {@link followTask}. */
  followTask(category: TaskCategoryRef, resourceMeta: Uint8Array, options?: FollowTaskOptions): AsyncGenerator<Resource, void, undefined>;
  /** A task's log lines across all pages; see {@link streamLogs}. */
  streamLogs(category: TaskCategoryRef, resourceMeta: Uint8Array, options?: StreamLogsOptions): AsyncGenerator<LogLine, void, undefined>;
}

/**
 * Creates typed clients of a connector service from its base URL, over gRPC-Web or Connect (JSON or
 * binary). Works in browsers and in Node; the message types are the generated flyteidl2 stubs.
 *
 * @example
 * const clients = createConnectorClients({ baseUrl: "https://connectors.example", protocol: "grpc-web",
 *   headers: () => ({ Authorization: `Bearer ${token()}` }) });
 * const connectors = await clients.listConnectors();
 */
export function createConnectorClients(options: ConnectorClientsOptions): ConnectorClients {
  const transport = transportFromOptions(options);
  const tasks = createClient(AsyncConnectorService, transport);
  const metadata = createClient(ConnectorMetadataService, transport);
  const health = createClient(Health, transport);
  return {
    tasks,
    metadata,
    health,
    async listConnectors(callOptions) {
      return (await metadata.listConnectors({}, callOptions)).connectors;
    },
    async servingStatus(service = "", callOptions) {
      const { status } = await health.check({ service }, callOptions);
      return (HealthCheckResponse_ServingStatus[status] as ServingStatusName | undefined) ?? "UNKNOWN";
    },
    followTask: (category, resourceMeta, followOptions) => followTask(tasks, category, resourceMeta, followOptions),
    streamLogs: (category, resourceMeta, logsOptions) => streamLogs(tasks, category, resourceMeta, logsOptions),
  };
}
