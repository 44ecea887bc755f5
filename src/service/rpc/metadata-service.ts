import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { ListConnectorsResponseSchema, type ListConnectorsResponse } from "#idl/flyteidl2/connector/connector_pb.js";
import { ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import type { ConnectorInfo, ConnectorRegistry } from "../../registry/connector-registry.js";
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
  // One answer per registry state, frozen: the gRPC fast path then encodes it once (see grpc-fast-path.ts).
  let listed: readonly ConnectorInfo[] | undefined;
  let answer: ListConnectorsResponse | undefined;
  const handlers: MetadataService["handlers"] = {
    listConnectors() {
      const list = registry.list();
      if (list !== listed || answer === undefined) {
        listed = list;
        answer = Object.freeze(
          create(ListConnectorsResponseSchema, { connectors: list.map((c) => ({ name: c.name, supportedTaskCategories: [...c.taskCategories] })) }),
        );
      }
      return answer;
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
