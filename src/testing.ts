// Helpers for testing connectors against the real service: flyte-connect/testing.
export { startService } from "./testing/start-service.js";
export type { RunningService, StartServiceOptions } from "./testing/start-service.js";
export type { ConnectorSource } from "./registry/load-modules.js";
export { runConnector } from "./runner/run-connector.js";
export type { RunConnectorOptions, RunProgress, RunResult } from "./runner/run-connector.js";
export { connectorContext } from "./testing/connector-context.js";
export type { ConnectorContextOptions } from "./testing/connector-context.js";
export { createConnectorInvoker } from "./service/rpc/connector-invoker.js";
export type { CallScope, ConnectorInvoker, JobState } from "./service/rpc/connector-invoker.js";
