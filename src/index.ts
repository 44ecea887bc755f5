// The public face for connector authors: flyte-connect. Named re-exports only.

// The connector contract.
export { AsyncConnector, taskCategoryOf } from "./connectors/connector.js";
export type {
  AnyConnector,
  ConnectorContext,
  CreateRequest,
  GetContext,
  LogEntry,
  LogLink,
  LogsPage,
  LogsRequest,
  MetricResult,
  MetricsRequest,
  OutputTypes,
  Resource,
  TaskCategory,
} from "./connectors/connector.js";
export { ConnectorError, InvalidTaskError } from "./connectors/errors.js";
export { DEFAULT_STATE_TABLE, PHASES, isTerminalPhase, phaseFromState } from "./connectors/phase.js";
export type { Phase, PhaseDecision, StateTable } from "./connectors/phase.js";
export { jsonResourceMeta, optionalField, requireNumber, requireString, ResourceMetaError } from "./connectors/resource-meta.js";
export type { JsonResourceMetaOptions, MetaRecord, ResourceMetaCodec } from "./connectors/resource-meta.js";
export { parsePythonJson, stringifyPythonJson } from "./connectors/python-json.js";
export type { PythonJsonValue } from "./connectors/python-json.js";

// The registry.
export { createConnectorRegistry } from "./registry/connector-registry.js";
export type { ConnectorInfo, ConnectorRegistry, RegisterOptions } from "./registry/connector-registry.js";
export { ConnectorNotFoundError, DuplicateConnectorError } from "./registry/errors.js";

// The type engine.
export { outputsFromValues, outputTypesFromJson, outputTypesOf, outputTypesToJson, valuesFromInputs } from "./literals/convert.js";
export { LiteralError } from "./literals/errors.js";

// Demo connectors.
export { EchoConnector } from "./connectors/demo/echo-connector.js";
export { SleepConnector } from "./connectors/demo/sleep-connector.js";

export type { Logger } from "./log/logger.js";
