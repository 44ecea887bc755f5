// Running the service from code: flyte-connect/server.
export { createServer } from "./service/create-server.js";
export type { ConnectorServer, CreateServerOptions } from "./service/create-server.js";
export { parseConfig, ConfigError, DEFAULT_CONFIG } from "./config/config.js";
export { loadConfig } from "./config/load-config.js";
export type { ConfigSources } from "./config/load-config.js";
export type { Config, TlsConfig } from "./config/config.js";
export { createLogger, silentLogger } from "./log/logger.js";
export type { Logger, LoggerOptions, LogLevel } from "./log/logger.js";
export { builtinConnectors } from "./connectors/builtins.js";
export { connectorRegistryFrom, loadConnectorModules } from "./registry/load-modules.js";
export type { ConnectorSource } from "./registry/load-modules.js";
