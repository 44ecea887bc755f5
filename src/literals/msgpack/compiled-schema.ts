import type { JsonObject } from "@bufbuild/protobuf";
import { isObject, resolveSchema, schemaBranches, schemaTypes, type SchemaNode } from "./json-schema.js";

/**
 * A schema node with everything the encoder asks about it worked out once. The same struct type encodes
 * thousands of values (a map of 10k dataclasses), so the `$ref` lookups and key reads are cached per node.
 * @internal
 */
export interface CompiledSchema {
  /** `type`, resolved through `$ref`; undefined when the node does not constrain it. */
  readonly types: readonly string[] | undefined;
  /** `anyOf`/`oneOf` branches, compiled; undefined when there are none. */
  readonly branches: readonly CompiledSchema[] | undefined;
  readonly enumValues: readonly string[] | undefined;
  readonly required: readonly string[];
  readonly property: (name: string) => CompiledSchema | undefined;
  readonly items: CompiledSchema | undefined;
  readonly prefixItems: readonly (CompiledSchema | undefined)[] | undefined;
}

/** Compiles a schema node (lazily for children), caching per root and node. */
export function compileSchema(node: SchemaNode, root: SchemaNode): CompiledSchema {
  let byNode = cache.get(root);
  if (byNode === undefined) {
    byNode = new WeakMap();
    cache.set(root, byNode);
  }
  const cached = byNode.get(node);
  if (cached !== undefined) return cached;
  const compiled = build(node, root);
  byNode.set(node, compiled);
  return compiled;
}

const cache = new WeakMap<SchemaNode, WeakMap<SchemaNode, CompiledSchema>>();

function build(raw: SchemaNode, root: SchemaNode): CompiledSchema {
  const node = resolveSchema(raw, root);
  const child = (value: JsonObject[string] | undefined) => (isObject(value) ? compileSchema(value, root) : undefined);
  const branches = schemaBranches(node)?.map((b) => compileSchema(b, root));
  const enumRaw = node["enum"];
  const required = node["required"];
  const properties = node["properties"];
  const additional = node["additionalProperties"];
  const prefix = node["prefixItems"];
  const propertyCache = new Map<string, CompiledSchema | undefined>();
  return {
    types: schemaTypes(node),
    branches,
    enumValues: Array.isArray(enumRaw) && enumRaw.every((v) => typeof v === "string") ? (enumRaw as string[]) : undefined,
    required: Array.isArray(required) ? required.filter((r): r is string => typeof r === "string") : [],
    property: (name) => {
      if (propertyCache.has(name)) return propertyCache.get(name);
      const declared = isObject(properties) && Object.hasOwn(properties, name) ? properties[name] : undefined;
      const compiled = child(isObject(declared) ? declared : additional);
      propertyCache.set(name, compiled);
      return compiled;
    },
    items: child(node["items"]),
    prefixItems: Array.isArray(prefix) ? prefix.map((p) => child(p)) : undefined,
  };
}
