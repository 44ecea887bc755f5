import type { ServiceImpl } from "@connectrpc/connect";
import type { Agent } from "#idl1/flyteidl/admin/agent_pb.js";
import { AgentMetadataService } from "#idl1/flyteidl/service/agent_pb.js";
import { taskCategoryOf, type AnyConnector } from "../../../connectors/connector.js";
import { isSyncConnector } from "../../../connectors/sync-connector.js";
import type { ConnectorRegistry } from "../../../registry/connector-registry.js";
import { connectErrorFrom } from "../error-mapping.js";
import { connectUnary, type UnaryHandlers, type UnaryService } from "../rpc-handlers.js";

/** `flyteidl.service.AgentMetadataService`, for both transports. */
export interface AgentMetadata extends UnaryService<typeof AgentMetadataService> {
  readonly handlers: UnaryHandlers<typeof AgentMetadataService>;
  readonly connect: ServiceImpl<typeof AgentMetadataService>;
}

type AgentInit = Omit<Agent, "$typeName" | "supportedTaskCategories"> & { supportedTaskCategories: { name: string; version: number }[] };

/**
 * Agents by connector name, sync and async apart: propeller routes a task type to ExecuteTaskSync when the
 * agent that lists it says `is_sync`, so a name with connectors of both kinds becomes two entries.
 */
function agentsOf(connectors: readonly AnyConnector[]): AgentInit[] {
  const agents = new Map<string, AgentInit>();
  for (const c of connectors) {
    const isSync = isSyncConnector(c);
    const key = `${isSync ? 1 : 0}\u0000${c.name}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = { name: c.name, isSync, supportedTaskTypes: [], supportedTaskCategories: [] };
      agents.set(key, agent);
    }
    const category = taskCategoryOf(c);
    agent.supportedTaskCategories.push({ ...category });
    // The deprecated list: propellers before task categories route by it.
    if (!agent.supportedTaskTypes.includes(category.name)) agent.supportedTaskTypes.push(category.name);
  }
  return [...agents.values()];
}

/** `flyteidl.service.AgentMetadataService`: the registry as Flyte 1's propeller reads it. */
export function createAgentMetadataService(registry: ConnectorRegistry): AgentMetadata {
  const handlers: AgentMetadata["handlers"] = {
    listAgents() {
      return { agents: agentsOf(registry.connectors()) };
    },
    getAgent(req) {
      const agents = agentsOf(registry.connectors().filter((c) => c.name === req.name));
      if (agents.length === 0) {
        // The registry's own not-found error, mapped as ConnectorMetadataService maps it.
        try {
          registry.info(req.name);
        } catch (e) {
          throw connectErrorFrom(e, { operation: "get", taskType: req.name });
        }
      }
      // A name with sync and async connectors: the async entry first, with every category; is_sync only if all are.
      const [first, ...rest] = agents;
      const merged: AgentInit = { ...first!, supportedTaskTypes: [...first!.supportedTaskTypes], supportedTaskCategories: [...first!.supportedTaskCategories] };
      for (const a of rest) {
        merged.isSync &&= a.isSync;
        merged.supportedTaskCategories.push(...a.supportedTaskCategories);
        for (const t of a.supportedTaskTypes) if (!merged.supportedTaskTypes.includes(t)) merged.supportedTaskTypes.push(t);
      }
      return { agent: merged };
    },
  };
  return {
    service: AgentMetadataService,
    handlers,
    connect: { listAgents: connectUnary(handlers.listAgents), getAgent: connectUnary(handlers.getAgent) },
  };
}
