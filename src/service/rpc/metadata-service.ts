import type { ServiceImpl } from "@connectrpc/connect";
import { ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import type { ConnectorRegistry } from "../../registry/connector-registry.js";
import { connectErrorFrom } from "./error-mapping.js";
import { connectUnary, type UnaryHandlers, type UnaryService } from "./rpc-handlers.js";

/** `flyteidl2.connector.ConnectorMetadataService`, for both transports. */
export interface MetadataService extends UnaryService<typeof ConnectorMetadataService> {
  readonly handlers: UnaryHandlers<typeof ConnectorMetadataService>;
  readonly connect: ServiceImpl<typeof ConnectorMetadataService>;
}

/**
 * `flyteidl2.connector.ConnectorMetadataService`. The executor calls ListConnectors every 10 s on every
 * endpoint and routes task types by its answer: it reads only the registry.
 */
export function createMetadataService(registry: ConnectorRegistry): MetadataService {
  const handlers: MetadataService["handlers"] = {
    listConnectors() {
      return {
        connectors: registry.list().map((c) => ({ name: c.name, supportedTaskCategories: [...c.taskCategories] })),
      };
    },
    getConnector(req) {
      try {
        const info = registry.info(req.name);
        return { connector: { name: info.name, supportedTaskCategories: [...info.taskCategories] } };
      } catch (e) {
        throw connectErrorFrom(e, { operation: "get", taskType: req.name });
      }
    },
  };
  return {
    service: ConnectorMetadataService,
    handlers,
    connect: { listConnectors: connectUnary(handlers.listConnectors), getConnector: connectUnary(handlers.getConnector) },
  };
}
