import type { AnyConnector } from "./connector.js";
import { EchoConnector } from "./demo/echo-connector.js";
import { SleepConnector } from "./demo/sleep-connector.js";

/** The connectors `flyte-connect serve` registers unless told not to. They need no connection to construct. */
export function builtinConnectors(): AnyConnector[] {
  return [new SleepConnector(), new EchoConnector()];
}
