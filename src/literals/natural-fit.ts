import { SimpleType, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { Datetime } from "./datetime.js";
import { PICKLE_FORMAT } from "./flyte-names.js";
import { PickledValue } from "./pickled-value.js";
import { isPlainRecord } from "./plain-record.js";
import { Timedelta } from "./timedelta.js";

/**
 * Whether a value's JS type is the one its Flyte type reads as: the stand-in for flyte-sdk's "type(v) is one of
 * the union's arguments" rule (docs/flyte-literals.md §2.8). bigint is INTEGER and number is FLOAT, so a value read from a
 * `Union[int, float]` is written back to the variant it came from.
 * @internal
 */
export function naturallyFits(value: unknown, type: LiteralType): boolean {
  const t = type.type;
  switch (t.case) {
    case "simple":
      switch (t.value) {
        case SimpleType.INTEGER:
          return typeof value === "bigint";
        case SimpleType.FLOAT:
          return typeof value === "number";
        case SimpleType.STRING:
          return typeof value === "string";
        case SimpleType.BOOLEAN:
          return typeof value === "boolean";
        case SimpleType.DATETIME:
          return value instanceof Datetime || value instanceof Date;
        case SimpleType.DURATION:
          return value instanceof Timedelta;
        case SimpleType.NONE:
          return value === null || value === undefined;
        case SimpleType.STRUCT:
          return isPlainRecord(value) || value instanceof Map;
        case SimpleType.BINARY:
          return value instanceof PickledValue;
        default:
          return false;
      }
    case "collectionType":
      return Array.isArray(value);
    case "mapValueType":
      return isPlainRecord(value) || value instanceof Map;
    case "unionType":
      return t.value.variants.some((v) => naturallyFits(value, v));
    case "enumType":
      return typeof value === "string" && t.value.values.includes(value);
    case "blob":
      if (t.value.format === PICKLE_FORMAT) return value instanceof PickledValue;
      return isPlainRecord(value) && typeof value["uri"] === "string";
    case "structuredDatasetType":
      return isPlainRecord(value) && typeof value["uri"] === "string";
    default:
      return false;
  }
}
