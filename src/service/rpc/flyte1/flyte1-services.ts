import type { ConnectRouter } from "@connectrpc/connect";
import { AgentMetadataService, AsyncAgentService, SyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import type { ConnectorRegistry } from "../../../registry/connector-registry.js";
import type { ConnectorService } from "../connector-service.js";
import type { UnaryService } from "../rpc-handlers.js";
import { createAgentMetadataService } from "./agent-metadata-service.js";
import { createAgentService } from "./agent-service.js";
import { createSyncAgentService } from "./sync-agent-service.js";

/** Flyte 1's agent services, served beside Flyte 2's on the same port (docs/operations.md, "Flyte 1 propeller"). */
export const FLYTE1_SERVICES = [AsyncAgentService, SyncAgentService, AgentMetadataService] as const;

/** Flyte 1's services over the Flyte 2 connector service: unary ones for the gRPC fast path, and connect's routes. */
export interface Flyte1Services {
  readonly unary: readonly UnaryService[];
  routes(router: ConnectRouter): void;
}

export function createFlyte1Services(connectorService: ConnectorService, registry: ConnectorRegistry): Flyte1Services {
  const agents = createAgentService(connectorService);
  const metadata = createAgentMetadataService(registry);
  const sync = createSyncAgentService(connectorService, registry);
  return {
    unary: [agents, metadata],
    routes(router) {
      router.service(AsyncAgentService, agents.connect);
      router.service(SyncAgentService, sync);
      router.service(AgentMetadataService, metadata.connect);
    },
  };
}
