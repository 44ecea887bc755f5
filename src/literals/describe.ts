import type { Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { BlobType_BlobDimensionality, SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";

/**
 * Short human-readable names for types, literals and JS values, for error messages that say what was expected
 * and what arrived: `expected list<INTEGER>, got a string literal`.
 * @internal
 */

/** `INTEGER`, `list<FLOAT>`, `map<STRING>`, `union<int | none>`, `enum{RED,GREEN}`, `STRUCT Stats`, `file`, … */
export function describeType(type: LiteralType | undefined): string {
  if (type === undefined) return "no type";
  const t = type.type;
  switch (t.case) {
    case "simple": {
      const name = SimpleType[t.value] ?? `simple(${t.value})`;
      const title = t.value === SimpleType.STRUCT ? structTitle(type) : undefined;
      return title === undefined ? name : `${name} ${title}`;
    }
    case "collectionType":
      return `list<${describeType(t.value)}>`;
    case "mapValueType":
      return `map<${describeType(t.value)}>`;
    case "unionType":
      return `union<${t.value.variants.map((v) => v.structure?.tag || describeType(v)).join(" | ")}>`;
    case "enumType":
      return `enum{${t.value.values.join(",")}}`;
    case "blob":
      return `${t.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "dir" : "file"}${t.value.format ? `(${t.value.format})` : ""}`;
    case "structuredDatasetType":
      return `dataframe${t.value.format ? `(${t.value.format})` : ""}`;
    case "schema":
      return "schema";
    case undefined:
      return "an empty type";
  }
}

function structTitle(type: LiteralType): string | undefined {
  const title = type.metadata?.["title"];
  if (typeof title === "string") return title;
  const pb = type.metadata?.["pb_type"];
  return typeof pb === "string" ? pb : undefined;
}

/** `an integer literal`, `a collection literal`, `a msgpack binary literal`, … */
export function describeLiteral(literal: Literal | undefined): string {
  if (literal === undefined) return "no literal";
  const v = literal.value;
  switch (v.case) {
    case "collection":
      return "a collection literal";
    case "map":
      return "a map literal";
    case "offloadedMetadata":
      return "an offloaded literal";
    case undefined:
      return "an empty literal";
    case "scalar": {
      const s = v.value.value;
      switch (s.case) {
        case "primitive": {
          const p = s.value.value;
          switch (p.case) {
            case "integer":
              return "an integer literal";
            case "floatValue":
              return "a float literal";
            case "stringValue":
              return "a string literal";
            case "boolean":
              return "a boolean literal";
            case "datetime":
              return "a datetime literal";
            case "duration":
              return "a duration literal";
            case undefined:
              return "an empty primitive literal";
          }
          break;
        }
        case "binary":
          return s.value.tag === "" ? "an untagged binary literal" : `a ${s.value.tag} binary literal`;
        case "noneType":
          return "a none literal";
        case "generic":
          return "a generic (Struct) literal";
        case "union":
          return "a union literal";
        case "blob":
          return "a blob literal";
        case "structuredDataset":
          return "a structured dataset literal";
        case "schema":
          return "a schema literal";
        case "error":
          return "an error literal";
        case undefined:
          return "an empty scalar literal";
      }
    }
  }
  return "an unknown literal";
}

/** `a string`, `the number 3.5`, `an array`, `null`, `a Date`, … */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "string":
      return value.length > 40 ? "a string" : `the string ${JSON.stringify(value)}`;
    case "number":
      return `the number ${value}`;
    case "bigint":
      return `the bigint ${value}n`;
    case "boolean":
      return `the boolean ${value}`;
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    case "object": {
      if (Array.isArray(value)) return "an array";
      const ctor = Object.getPrototypeOf(value)?.constructor?.name as string | undefined;
      if (ctor === undefined || ctor === "Object") return "an object";
      return `a ${ctor}`;
    }
  }
  return "a value";
}
