import type { ServiceImpl } from "@connectrpc/connect";
import type { ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import type { ConnectorRegistry } from "../../registry/connector-registry.js";
import { connectErrorFrom } from "./error-mapping.js";

/**
 * `flyteidl2.connector.ConnectorMetadataService`. The executor calls ListConnectors every 10 s on every
 * endpoint and routes task types by its answer (executor-contract.md §3.4): it reads only the registry.
 */
export function createMetadataService(registry: ConnectorRegistry): ServiceImpl<typeof ConnectorMetadataService> {
  return {
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
}
