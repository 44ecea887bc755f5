import type { JsonObject } from "@bufbuild/protobuf";
import type { LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { BlobType_BlobDimensionality, SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import type { BlobRef, BlobRefInit } from "./blob-ref.js";
import type { DatasetRef, DatasetRefInit } from "./dataset-ref.js";
import type { Datetime } from "./datetime.js";
import { PB_TYPE_KEY, PICKLE_FORMAT, TAG, msgpackAnnotations } from "./flyte-names.js";
import type { AnyFlyteType, FieldValueOf, FlyteType, ValueOf, WritableFieldValueOf, WritableValueOf } from "./flyte-type.js";
import type { PickledValue } from "./pickled-value.js";
import type { Timedelta } from "./timedelta.js";
import type { UnionVariant } from "./union-variant.js";

/**
 * Builders of Flyte types that carry the JS types of their values, so that the compiler checks a connector's
 * inputs and outputs against its declared interface. Each builds the LiteralType flyte-sdk builds for the
 * Python type in the comment (docs/flyte-literals.md §2). Use them with {@link defineInterface}.
 *
 * @example
 * const iface = defineInterface({
 *   inputs: { n: t.int(), name: t.optional(t.string()) },
 *   outputs: { o0: t.list(t.float()) },
 * });
 */
export const t = {
  /** Python `int`: a `bigint` in, a `bigint` or safe-integer `number` out. */
  int: (): FlyteType<bigint, bigint | number, number, number | bigint> => simple(SimpleType.INTEGER, TAG.int, { type: "integer" }),
  /** Python `float`: a `number`, NaN and ±Infinity included. */
  float: (): FlyteType<number, number | bigint, number, number> => simple(SimpleType.FLOAT, TAG.float, { type: "number" }),
  /** Python `str`. */
  string: (): FlyteType<string> => simple(SimpleType.STRING, TAG.str, { type: "string" }),
  /** Python `bool`. */
  bool: (): FlyteType<boolean> => simple(SimpleType.BOOLEAN, TAG.bool, { type: "boolean" }),
  /** Python `datetime` (UTC); inside a struct, an ISO-8601 string. */
  datetime: (): FlyteType<Datetime, Datetime | Date, string, string | Datetime | Date> =>
    simple(SimpleType.DATETIME, TAG.datetime, { type: "string", format: "date-time" }),
  /** Python `timedelta`; inside a struct, float seconds (dataclass) or an ISO-8601 duration (pydantic). */
  duration: (): FlyteType<Timedelta, Timedelta, number | string, number | string | Timedelta> => simple(SimpleType.DURATION, TAG.timedelta, { type: "number" }),
  /** Python `None`. */
  none: (): FlyteType<null, null | undefined> => {
    const none: FlyteType<null, null | undefined> = { ...simple(SimpleType.NONE, TAG.none, { type: "null" }), optional: true };
    return Object.freeze(none);
  },

  /** Python `list[T]`. */
  list: <T extends AnyFlyteType>(element: T): FlyteType<ValueOf<T>[], readonly WritableValueOf<T>[], FieldValueOf<T>[], readonly WritableFieldValueOf<T>[]> =>
    make(
      { type: { case: "collectionType", value: element.literalType } },
      TAG.list,
      fieldSchemaOf(element, (s) => ({ type: "array", items: s })),
    ),

  /** Python `dict[str, T]`: a plain object in; a plain object or a `Map` with string keys out. */
  map: <T extends AnyFlyteType>(
    value: T,
  ): FlyteType<
    Record<string, ValueOf<T>>,
    Readonly<Record<string, WritableValueOf<T>>> | ReadonlyMap<string, WritableValueOf<T>>,
    Record<string, FieldValueOf<T>>,
    Readonly<Record<string, WritableFieldValueOf<T>>>
  > =>
    make(
      { type: { case: "mapValueType", value: value.literalType } },
      TAG.dict,
      fieldSchemaOf(value, (s) => ({ type: "object", additionalProperties: s, propertyNames: { type: "string" } })),
    ),

  /** Python `Optional[T]`: null when absent. */
  optional: <T extends AnyFlyteType>(
    type: T,
  ): FlyteType<ValueOf<T> | null, WritableValueOf<T> | null | undefined, FieldValueOf<T> | null, WritableFieldValueOf<T> | null | undefined> =>
    union([type, t.none()]),

  /** Python `Union[A, B, …]`; on output a value that fits several variants needs `unionVariant(tag, value)`. */
  union: <T extends readonly AnyFlyteType[]>(
    ...variants: T
  ): FlyteType<ValueOf<T[number]>, WritableValueOf<T[number]> | UnionVariant, FieldValueOf<T[number]>, WritableFieldValueOf<T[number]>> => union(variants),

  /** Python `enum.Enum` (by member name) or `typing.Literal["a", "b"]`: one of the given strings. */
  enum: <const V extends readonly [string, ...string[]]>(values: V): FlyteType<V[number]> =>
    make({ type: { case: "enumType", value: { $typeName: "flyteidl2.core.EnumType", values: [...values] } } }, TAG.enum, {
      type: "string",
      enum: [...values],
    }),

  /** A Python `@dataclass`, msgpack-encoded as mashumaro does. Fields use the struct forms of their types. */
  dataclass: <F extends Readonly<Record<string, AnyFlyteType>>>(title: string, fields: F): FlyteType<StructRead<F>, StructWrite<F>> =>
    struct(title, fields, "dataclass"),

  /** A pydantic `BaseModel` (also tuple/NamedTuple/TypedDict values), msgpack-encoded from its JSON form. */
  pydantic: <F extends Readonly<Record<string, AnyFlyteType>>>(title: string, fields: F): FlyteType<StructRead<F>, StructWrite<F>> =>
    struct(title, fields, "pydantic"),

  /** An untyped Python `dict` (or `dict` with non-str keys, which arrive as a `Map`), msgpack-encoded. */
  dict: (): FlyteType<Record<string, unknown> | Map<unknown, unknown>, Readonly<Record<string, unknown>> | ReadonlyMap<unknown, unknown>> =>
    make({ type: { case: "simple", value: SimpleType.STRUCT }, annotation: annotation() }, TAG.dict, { type: "object" }),

  /** A protobuf message (or `google.protobuf.Struct`): JSON, sent as a `generic` Struct. */
  protobuf: (pbType: string): FlyteType<JsonObject> =>
    make({ type: { case: "simple", value: SimpleType.STRUCT }, metadata: { [PB_TYPE_KEY]: pbType } }, TAG.protobuf, undefined),

  /** `flyte.io.File`: a reference, nothing is downloaded. */
  file: (options: { readonly format?: string } = {}): FlyteType<BlobRef, BlobRefInit, never, never> =>
    blob(options.format ?? "", BlobType_BlobDimensionality.SINGLE, TAG.file),

  /** `flyte.io.Dir`: a reference, nothing is downloaded. */
  dir: (options: { readonly format?: string } = {}): FlyteType<BlobRef, BlobRefInit, never, never> =>
    blob(options.format ?? "", BlobType_BlobDimensionality.MULTIPART, TAG.dir),

  /** `flyte.io.DataFrame` (a structured dataset), optionally with a format and columns. */
  dataframe: (
    options: { readonly format?: string; readonly columns?: Readonly<Record<string, AnyFlyteType>> } = {},
  ): FlyteType<DatasetRef, DatasetRefInit, never, never> =>
    make(
      {
        type: {
          case: "structuredDatasetType",
          value: {
            $typeName: "flyteidl2.core.StructuredDatasetType",
            columns: Object.entries(options.columns ?? {}).map(([name, type]) => ({
              $typeName: "flyteidl2.core.StructuredDatasetType.DatasetColumn",
              name,
              literalType: type.literalType,
            })),
            format: options.format ?? "",
            externalSchemaType: "",
            externalSchemaBytes: new Uint8Array(0),
          },
        },
      },
      TAG.dataframe,
      undefined,
    ),

  /** flyte-sdk's pickle fallback (`set`, `bytes`, `typing.Any`, …): opaque, pass-through only. */
  pickle: (pythonClass = "<class 'object'>"): FlyteType<PickledValue, PickledValue, never, never> => {
    const variant = (type: LiteralType["type"]): LiteralType => literalType({ type, structure: structure(TAG.pickle) });
    return make(
      {
        type: {
          case: "unionType",
          value: {
            $typeName: "flyteidl2.core.UnionType",
            variants: [
              variant({
                case: "blob",
                value: { $typeName: "flyteidl2.core.BlobType", format: PICKLE_FORMAT, dimensionality: BlobType_BlobDimensionality.SINGLE },
              }),
              variant({ case: "simple", value: SimpleType.BINARY }),
            ],
          },
        },
        metadata: { python_class_name: pythonClass },
      },
      TAG.pickle,
      undefined,
    );
  },
} as const;

/** The value a connector receives for a struct built by `t.dataclass`/`t.pydantic`. */
export type StructRead<F extends Readonly<Record<string, AnyFlyteType>>> = { -readonly [K in keyof F]: FieldValueOf<F[K]> };

/** The value a connector may return for such a struct: Optional fields may be left out. */
export type StructWrite<F extends Readonly<Record<string, AnyFlyteType>>> = Simplify<
  { readonly [K in keyof F as undefined extends WritableFieldValueOf<F[K]> ? never : K]: WritableFieldValueOf<F[K]> } & {
    readonly [K in keyof F as undefined extends WritableFieldValueOf<F[K]> ? K : never]?: WritableFieldValueOf<F[K]>;
  }
>;

/** @internal */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

type LiteralTypeInit = Partial<Omit<LiteralType, "$typeName">> & Pick<LiteralType, "type">;

function literalType(init: LiteralTypeInit): LiteralType {
  return { $typeName: "flyteidl2.core.LiteralType", ...init };
}

function structure(tag: string): NonNullable<LiteralType["structure"]> {
  return { $typeName: "flyteidl2.core.TypeStructure", tag, dataclassType: {} };
}

function annotation(): NonNullable<LiteralType["annotation"]> {
  return { $typeName: "flyteidl2.core.TypeAnnotation", annotations: msgpackAnnotations() };
}

// The phantom value types exist only for the compiler; every FlyteType is this runtime shape.
function make<R, W, FR, FW>(init: LiteralTypeInit, tag: string, fieldSchema: JsonObject | undefined): FlyteType<R, W, FR, FW> {
  return Object.freeze({ literalType: literalType(init), tag, fieldSchema, optional: false });
}

function simple<R, W, FR, FW>(value: SimpleType, tag: string, fieldSchema: JsonObject): FlyteType<R, W, FR, FW> {
  return make({ type: { case: "simple", value } }, tag, fieldSchema);
}

function blob<R, W>(format: string, dimensionality: BlobType_BlobDimensionality, tag: string): FlyteType<R, W, never, never> {
  return make({ type: { case: "blob", value: { $typeName: "flyteidl2.core.BlobType", format, dimensionality } } }, tag, undefined);
}

function fieldSchemaOf(type: AnyFlyteType, wrap: (schema: JsonObject) => JsonObject): JsonObject | undefined {
  return type.fieldSchema === undefined ? undefined : wrap(type.fieldSchema);
}

/** Each variant carries its tag in `structure`, replacing any structure it had, as flyte-sdk's `_add_tag_to_type`. */
function union<R, W, FR, FW>(variants: readonly AnyFlyteType[]): FlyteType<R, W, FR, FW> {
  if (variants.length === 0) throw new TypeError("t.union needs at least one variant");
  const schemas = variants.map((v) => v.fieldSchema);
  const fieldSchema = schemas.every((s): s is JsonObject => s !== undefined) ? { anyOf: schemas } : undefined;
  const type = make<R, W, FR, FW>(
    {
      type: {
        case: "unionType",
        value: {
          $typeName: "flyteidl2.core.UnionType",
          variants: variants.map((v) => ({ ...v.literalType, structure: structure(v.tag) })),
        },
      },
    },
    TAG.union,
    fieldSchema,
  );
  return Object.freeze({ ...type, optional: variants.some((v) => v.optional) });
}

function struct<F extends Readonly<Record<string, AnyFlyteType>>>(
  title: string,
  fields: F,
  flavor: "dataclass" | "pydantic",
): FlyteType<StructRead<F>, StructWrite<F>> {
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    if (field.fieldSchema === undefined) throw new TypeError(`t.${flavor}(${JSON.stringify(title)}): field ${JSON.stringify(name)} cannot be a struct field`);
    // mashumaro and pydantic both write `Optional[X] = None` as anyOf X|null with a null default, not required.
    let schema: JsonObject = field.optional ? { ...field.fieldSchema, default: null } : field.fieldSchema;
    if (flavor === "pydantic") schema = { ...schema, title: pydanticTitle(name) };
    properties[name] = schema;
    if (!field.optional) required.push(name);
  }
  const schema: JsonObject =
    flavor === "dataclass" ? { type: "object", title, properties, additionalProperties: false, required } : { properties, required, title, type: "object" };
  return make(
    {
      type: { case: "simple", value: SimpleType.STRUCT },
      metadata: schema,
      annotation: annotation(),
      structure: structure(flavor === "dataclass" ? TAG.dataclass : TAG.pydantic),
    },
    flavor === "dataclass" ? TAG.dataclass : TAG.pydantic,
    schema,
  );
}

/** pydantic's default field title: `item_0` → `Item 0`. */
function pydanticTitle(name: string): string {
  return name
    .split("_")
    .filter((w) => w !== "")
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}
