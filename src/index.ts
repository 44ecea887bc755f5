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
  InputTypes,
  OutputTypes,
  Resource,
  TaskCategory,
} from "./connectors/connector.js";
export { SyncConnector, isSyncConnector } from "./connectors/sync-connector.js";
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

// The type engine: Flyte literals ⇄ JavaScript values (docs/type-engine.md).
export {
  inputsFromValues,
  outputsFromValues,
  outputTypesFromJson,
  outputTypesOf,
  outputTypesToJson,
  valuesFromInputs,
  valuesFromOutputs,
} from "./literals/convert.js";
export { literalFromValue } from "./literals/literal-from-value.js";
export { valueFromLiteral } from "./literals/value-from-literal.js";
export { LiteralError } from "./literals/errors.js";
export { Datetime } from "./literals/datetime.js";
export { Timedelta } from "./literals/timedelta.js";
export type { TimedeltaParts } from "./literals/timedelta.js";
export { PickledValue } from "./literals/pickled-value.js";
export { UnionVariant, unionVariant } from "./literals/union-variant.js";
export { t } from "./literals/t.js";
export type { StructRead, StructWrite } from "./literals/t.js";
export { defineInterface } from "./literals/define-interface.js";
export type { FlyteFields, InputsOf, OutputsOf, TaskInterface } from "./literals/define-interface.js";
export type { AnyFlyteType, FlyteType, ValueOf, WritableValueOf } from "./literals/flyte-type.js";
// The protobuf types a connector's signatures mention, so that its declarations can name them from here.
export type { LiteralType } from "#idl/flyteidl2/core/types_pb.js";
export type { TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
export type { TypedInterface } from "#idl/flyteidl2/core/interface_pb.js";
export type { BlobRef, BlobRefInit } from "./literals/blob-ref.js";
export type { DatasetColumn, DatasetRef, DatasetRefInit } from "./literals/dataset-ref.js";

// Built-in connectors (docs/connectors/).
export { PostgresConnector } from "./connectors/postgres/postgres-connector.js";
export type { PostgresConnectorOptions } from "./connectors/postgres/postgres-connector.js";
export { HttpJobConnector } from "./connectors/http-job/http-job-connector.js";
export type { HttpJobConnectorOptions } from "./connectors/http-job/http-job-connector.js";
export { BigQueryConnector } from "./connectors/bigquery/bigquery-connector.js";
export type { BigQueryConnectorOptions } from "./connectors/bigquery/bigquery-connector.js";
export { SnowflakeConnector } from "./connectors/snowflake/snowflake-connector.js";
export type { SnowflakeConnectorOptions } from "./connectors/snowflake/snowflake-connector.js";
export { DatabricksConnector } from "./connectors/databricks/databricks-connector.js";
export type { DatabricksConnectorOptions } from "./connectors/databricks/databricks-connector.js";
export type { ApiCallBudget } from "./connectors/warehouse/api-call.js";
export { HttpCallConnector } from "./connectors/http-job/http-call-connector.js";
export type { HttpCallConnectorOptions } from "./connectors/http-job/http-call-connector.js";

// Demo connectors.
export { EchoConnector } from "./connectors/demo/echo-connector.js";
export { SleepConnector } from "./connectors/demo/sleep-connector.js";
export { HashConnector } from "./connectors/demo/hash-connector.js";

export type { Logger } from "./log/logger.js";
