/** The names `flyte-connect serve` lists for its built-ins, in registration order: what listing tests expect. */
export const BUILTIN_CONNECTOR_NAMES: readonly string[] = [
  "Sleep Connector",
  "Echo Connector",
  "PostgreSQL Connector",
  "HTTP Job Connector",
  "Bigquery Connector",
  "Snowflake Connector",
  "Databricks Connector",
  "HTTP Call Connector",
  "Hash Connector",
];
