/**
 * @flyte-connect/web-client: typed clients of a flyte-connect connector service for dashboards (gRPC-Web or
 * Connect in browsers) and scripts (Node). Message types are the generated flyteidl2 stubs. See
 * docs/web-client.md.
 */

// Relevant to end users.
export { createConnectorClients } from "./create-connector-clients.js";
export type { ConnectorClients, ConnectorClientsOptions, ServingStatusName } from "./create-connector-clients.js";
export { PROTOCOLS } from "./protocol.js";
export type { Protocol } from "./protocol.js";
export type { HeadersOption } from "./transport-from-options.js";
export type { TaskCategoryRef } from "./task-ref.js";
export { followTask } from "./follow-task.js";
export type { FollowTaskOptions } from "./follow-task.js";
export { streamLogs } from "./stream-logs.js";
export type { StreamLogsOptions } from "./stream-logs.js";
export { isTerminalPhase, phaseName } from "./task-phase.js";
export { RESOURCE_META_FORMS, resourceMetaAsJson, resourceMetaFromText, ResourceMetaTextError } from "./resource-meta-json.js";
export type { ResourceMetaView } from "./resource-meta-json.js";

// The generated types callers meet in results, so that they need not import the stubs themselves.
export { TaskExecution_Phase } from "../../vendor/flyteidl2/flyteidl2/core/execution_pb.js";
export type { Connector, Resource, TaskCategory } from "../../vendor/flyteidl2/flyteidl2/connector/connector_pb.js";
export type { LogLine } from "../../vendor/flyteidl2/flyteidl2/logs/dataplane/payload_pb.js";
export { LogLineOriginator } from "../../vendor/flyteidl2/flyteidl2/logs/dataplane/payload_pb.js";
export { Code, ConnectError } from "@connectrpc/connect";
