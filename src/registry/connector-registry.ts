import { taskCategoryOf, type AnyConnector, type TaskCategory } from "../connectors/connector.js";
import { ConnectorNotFoundError, DuplicateConnectorError } from "./errors.js";

/** A connector name and the task categories registered under it, in registration order. */
export interface ConnectorInfo {
  readonly name: string;
  readonly taskCategories: readonly TaskCategory[];
}

/** Options of {@link ConnectorRegistry.register}. */
export interface RegisterOptions {
  /** Replace a connector already registered for the same task category. */
  readonly override?: boolean;
}

/**
 * The connectors one service serves, keyed by task type name and version. It is an instance, never a
 * process global, so two services (or two tests) can hold different sets.
 */
export interface ConnectorRegistry {
  /** Adds a connector; a second one for the same task category is an error unless `override` is set. */
  register(connector: AnyConnector, options?: RegisterOptions): void;
  /** The connector for a task category; throws {@link ConnectorNotFoundError} with the Python message. */
  get(taskTypeName: string, taskTypeVersion?: number): AnyConnector;
  /** Like {@link get}, but undefined when there is none. */
  find(taskTypeName: string, taskTypeVersion?: number): AnyConnector | undefined;
  /** Connector names with their task categories, grouped by name in registration order. */
  list(): readonly ConnectorInfo[];
  /** One connector name's entry; throws {@link ConnectorNotFoundError} for an unknown name. */
  info(name: string): ConnectorInfo;
  /** Every registered connector instance, in registration order. */
  connectors(): readonly AnyConnector[];
  /** Calls every connector's `close`, for when the service that served them has stopped. */
  close(): Promise<void>;
}

const keyOf = (name: string, version: number): string => `${version}\u0000${name}`;

/** Creates a registry holding the given connectors. */
export function createConnectorRegistry(initial: Iterable<AnyConnector> = []): ConnectorRegistry {
  // Map iteration order is insertion order, and an override keeps its slot: the metadata is derived from
  // this one map, so a replaced connector never leaves a stale or duplicated category behind (Python does).
  const byCategory = new Map<string, AnyConnector>();
  // The executor lists connectors every 10 s on every connection: the list is built once per registration.
  let listed: readonly ConnectorInfo[] | undefined;

  const registry: ConnectorRegistry = {
    register(connector, options = {}) {
      const { name, version } = taskCategoryOf(connector);
      if (typeof name !== "string" || name === "") throw new TypeError("a connector needs a non-empty taskTypeName");
      if (!Number.isInteger(version) || version < 0) throw new TypeError(`connector ${name}: taskTypeVersion must be a non-negative integer`);
      const key = keyOf(name, version);
      if (byCategory.has(key) && !options.override) {
        throw new DuplicateConnectorError(`Duplicate connector for task type: ${name} and version: ${version}`);
      }
      byCategory.set(key, connector);
      listed = undefined;
    },
    get(taskTypeName, taskTypeVersion = 0) {
      const found = registry.find(taskTypeName, taskTypeVersion);
      if (!found) {
        throw new ConnectorNotFoundError(`Cannot find connector for task type: ${taskTypeName} and version: ${taskTypeVersion}`, taskTypeName);
      }
      return found;
    },
    find(taskTypeName, taskTypeVersion = 0) {
      return byCategory.get(keyOf(taskTypeName, taskTypeVersion));
    },
    list() {
      if (listed !== undefined) return listed;
      const byName = new Map<string, TaskCategory[]>();
      for (const connector of byCategory.values()) {
        const categories = byName.get(connector.name) ?? [];
        categories.push(taskCategoryOf(connector));
        byName.set(connector.name, categories);
      }
      listed = Object.freeze([...byName].map(([name, taskCategories]) => Object.freeze({ name, taskCategories: Object.freeze(taskCategories) })));
      return listed;
    },
    info(name) {
      const found = registry.list().find((c) => c.name === name);
      if (!found) throw new ConnectorNotFoundError(`Cannot find connector for name: ${name}.`, name);
      return found;
    },
    connectors() {
      return [...byCategory.values()];
    },
    async close() {
      const closing = [...new Set(byCategory.values())].map((c) => c.close?.());
      await Promise.all(closing);
    },
  };
  for (const connector of initial) registry.register(connector);
  return registry;
}
