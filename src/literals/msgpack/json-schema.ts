import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

/**
 * Just enough JSON Schema to guide msgpack encoding and check a struct value against the schema flyte-sdk
 * stores in a STRUCT's `LiteralType.metadata` (mashumaro and pydantic output, docs/flyte-literals.md §2.10–2.11): `$ref`
 * into `$defs`/`definitions`, `anyOf`/`oneOf`/`allOf`, `type`, `properties`, `required`,
 * `additionalProperties`, `items`, `prefixItems`, `enum`.
 * @internal
 */
export type SchemaNode = JsonObject;

/** The schema types a node allows, or undefined when it does not say. */
export function schemaTypes(node: SchemaNode): readonly string[] | undefined {
  const t = node["type"];
  if (typeof t === "string") return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === "string");
  return undefined;
}

/** Follows `$ref` (and a single-element `allOf`, pydantic's wrapper for a `$ref` with siblings) to the node itself. */
export function resolveSchema(node: SchemaNode, root: SchemaNode): SchemaNode {
  let current = node;
  for (let hops = 0; hops < 32; hops++) {
    const ref = current["$ref"];
    if (typeof ref === "string") {
      const target = lookupRef(ref, root);
      if (target === undefined) return current;
      current = target;
      continue;
    }
    const allOf = current["allOf"];
    if (Array.isArray(allOf) && allOf.length === 1 && isObject(allOf[0])) {
      current = allOf[0];
      continue;
    }
    return current;
  }
  return current;
}

function lookupRef(ref: string, root: SchemaNode): SchemaNode | undefined {
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (m === null) return undefined;
  const defs = root[m[1]!];
  if (!isObject(defs)) return undefined;
  const name = m[2]!.replace(/~1/g, "/").replace(/~0/g, "~");
  const target = defs[name];
  return isObject(target) ? target : undefined;
}

/** The branches of an `anyOf`/`oneOf` node, or undefined. */
export function schemaBranches(node: SchemaNode): readonly SchemaNode[] | undefined {
  const branches = node["anyOf"] ?? node["oneOf"];
  return Array.isArray(branches) ? branches.filter(isObject) : undefined;
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
