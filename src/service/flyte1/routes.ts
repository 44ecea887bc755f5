import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { AgentMetadataService, AsyncAgentService, SyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import type { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import type { ConnectorRegistry } from "../../registry/connector-registry.js";
import { createAgentMetadataService } from "./agent-metadata-service.js";
import { createAgentService, createSyncAgentService } from "./agent-service.js";

/** Flyte 1's agent services, served beside Flyte 2's on the same port (docs/operations.md, "Flyte 1"). */
export const FLYTE1_SERVICES = [AsyncAgentService, SyncAgentService, AgentMetadataService] as const;

/** Routes the Flyte 1 services to the Flyte 2 connector service `flyte2` and the registry. */
export function flyte1Routes(flyte2: ServiceImpl<typeof AsyncConnectorService>, registry: ConnectorRegistry): (router: ConnectRouter) => void {
  return (router) => {
    router.service(AsyncAgentService, createAgentService(flyte2));
    router.service(SyncAgentService, createSyncAgentService(flyte2, registry));
    router.service(AgentMetadataService, createAgentMetadataService(registry));
  };
}
