import type { AnyConnector } from "./connector.js";
import { BigQueryConnector } from "./bigquery/bigquery-connector.js";
import { DatabricksConnector } from "./databricks/databricks-connector.js";
import { EchoConnector } from "./demo/echo-connector.js";
import { HashConnector } from "./demo/hash-connector.js";
import { SleepConnector } from "./demo/sleep-connector.js";
import { HttpCallConnector } from "./http-job/http-call-connector.js";
import { HttpJobConnector } from "./http-job/http-job-connector.js";
import { PostgresConnector } from "./postgres/postgres-connector.js";
import { SnowflakeConnector } from "./snowflake/snowflake-connector.js";

/**
 * The connectors `flyte-connect serve` registers unless told not to. None needs a connection to construct:
 * hosts, users and secrets come from each task's connection (or the service's environment).
 */
export function builtinConnectors(): AnyConnector[] {
  return [
    new SleepConnector(),
    new EchoConnector(),
    new PostgresConnector(),
    new HttpJobConnector(),
    new BigQueryConnector(),
    new SnowflakeConnector(),
    new DatabricksConnector(),
    new HttpCallConnector(),
    new HashConnector(),
  ];
}
