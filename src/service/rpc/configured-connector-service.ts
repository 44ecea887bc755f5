import type { Config } from "../../config/config.js";
import { secretEnvironment } from "../../config/secret-env.js";
import type { Logger } from "../../log/logger.js";
import type { ConnectorRegistry } from "../../registry/connector-registry.js";
import { createServiceSecrets } from "../../secrets/service-secrets.js";
import { createStorage } from "../../storage/storage.js";
import { createConnectorService, type ConnectorService, type ConnectorServiceOptions } from "./connector-service.js";

/** What the event loop adds to the connector service; the large-request worker's has none of it. */
export type ConnectorServiceExtras = Pick<ConnectorServiceOptions, "recentTasks" | "onDeleteIgnored" | "largeWork" | "largeCalls">;

/**
 * The connector service a configuration describes: its limits, object stores and the service's own secret
 * sources (a mounted directory, the environment). The server and the large-request worker build theirs here,
 * so that a call behaves the same on either.
 */
export function configuredConnectorService(config: Config, registry: ConnectorRegistry, log: Logger, extras: ConnectorServiceExtras = {}): ConnectorService {
  return createConnectorService({
    registry,
    log,
    maxResponseBytes: config.maxResponseBytes,
    maxResourceMetaBytes: config.maxResourceMetaBytes,
    // Cloud SDKs load on the first URI of their scheme, not here.
    storage: createStorage(config.storage),
    storageConfig: config.storage,
    serviceSecrets: createServiceSecrets({
      dir: config.secretsDir,
      envPrefix: config.secretsEnvPrefix,
      env: secretEnvironment(config.secretsEnvPrefix),
      cacheTtlMs: config.secretsCacheTtlMs,
    }),
    ...extras,
  });
}
