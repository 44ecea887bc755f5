import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AnyConnector } from "../connectors/connector.js";
import { CodedError } from "../errors/coded-error.js";
import { AsyncConnector } from "../connectors/connector.js";
import { builtinConnectors } from "../connectors/builtins.js";
import { createConnectorRegistry, type ConnectorRegistry } from "./connector-registry.js";
import { resolvePackageEntry } from "./resolve-package.js";

/** A module given to `--modules` that has no usable `connectors` export. */
export class ConnectorModuleError extends CodedError {
  static override readonly code = "FC_BAD_CONNECTOR_MODULE";
}

/** Looks like a file path rather than a package name. */
function isPath(spec: string): boolean {
  return spec.startsWith(".") || isAbsolute(spec) || /\.(m?js|cjs|m?ts)$/.test(spec);
}

/** Where a service's connectors come from: the built-ins or not, and `--modules`, resolved from `cwd`. */
export interface ConnectorSource {
  readonly builtins: boolean;
  readonly modules: readonly string[];
  readonly cwd: string;
}

/**
 * The registry `flyte-connect serve` serves: the built-ins (unless turned off), then each module's
 * connectors. The large-request worker builds its own from the same source.
 */
export async function connectorRegistryFrom(source: ConnectorSource): Promise<ConnectorRegistry> {
  const registry = createConnectorRegistry(source.builtins ? builtinConnectors() : []);
  try {
    await loadConnectorModules(source.modules, registry, source.cwd);
  } catch (e) {
    await registry.close();
    throw e;
  }
  return registry;
}

/**
 * Imports each module and registers the connectors it exports as `connectors` (an array of connector
 * instances). Paths and package names are both resolved from the working directory, the user's project
 * (see {@link resolveConnectorModule}), not from where flyte-connect is installed. A module that fails to
 * load stops the start: a service silently missing a connector is worse than one that does not start
 * (Python's `--modules` behaves the same).
 */
export async function loadConnectorModules(specs: readonly string[], registry: ConnectorRegistry, cwd = process.cwd()): Promise<void> {
  for (const spec of specs) {
    const target = resolveConnectorModule(spec, cwd);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(target)) as Record<string, unknown>;
    } catch (e) {
      throw new ConnectorModuleError(`cannot load connector module ${spec} (${fileURLToPath(target)}): ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    const connectors = mod["connectors"];
    if (!Array.isArray(connectors) || connectors.length === 0) {
      throw new ConnectorModuleError(`connector module ${spec} must export a non-empty array "connectors" of connector instances`);
    }
    for (const c of connectors) {
      if (!isConnector(c)) throw new ConnectorModuleError(`connector module ${spec}: every element of "connectors" must be an AsyncConnector instance`);
      registry.register(c);
    }
  }
}

function isConnector(value: unknown): value is AnyConnector {
  if (value instanceof AsyncConnector) return true;
  // A module may bring its own copy of flyte-connect; accept anything with the connector's shape.
  const v = value as Partial<AnyConnector> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.taskTypeName === "string" &&
    typeof v.name === "string" &&
    typeof v.create === "function" &&
    typeof v.get === "function" &&
    typeof v.delete === "function" &&
    typeof v.metadata === "object"
  );
}

/**
 * The file URL of a `--modules` entry: a path against `cwd`, or a package as a module in `cwd` would import
 * it (its node_modules, up the tree, or the project itself by its own name). Throws
 * {@link ConnectorModuleError} saying where it looked.
 */
export function resolveConnectorModule(spec: string, cwd: string): string {
  if (isPath(spec)) {
    const file = resolve(cwd, spec);
    if (!existsSync(file))
      throw new ConnectorModuleError(`cannot find connector module ${spec}: there is no file ${file} (paths are resolved from the working directory ${cwd})`);
    return pathToFileURL(file).href;
  }
  const found = resolvePackageEntry(spec, cwd);
  if (!found.file) {
    throw new ConnectorModuleError(
      `cannot find connector module ${spec} from the working directory ${cwd}: ${found.problem}; install it in the project (npm install ${spec}), run from the project's folder, or give a path such as ./dist/index.js`,
    );
  }
  return pathToFileURL(found.file).href;
}
