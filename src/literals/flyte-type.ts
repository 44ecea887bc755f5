import type { JsonObject } from "@bufbuild/protobuf";
import type { LiteralType } from "#idl/flyteidl2/core/types_pb.js";

/** Type-only keys of {@link FlyteType}'s phantom value types. @internal */
export declare const readValue: unique symbol;
/** @internal */
export declare const writeValue: unique symbol;
/** @internal */
export declare const readField: unique symbol;
/** @internal */
export declare const writeField: unique symbol;

/**
 * A Flyte type together with the JS types of its values, built with {@link t}. `Read` is what a connector
 * receives (an INTEGER input is a `bigint`), `Write` what it may return (a `bigint` or a safe-integer `number`);
 * `FieldRead`/`FieldWrite` are the same inside a dataclass or pydantic struct, whose contents stay plain msgpack
 * data (an int field is a `number`, a datetime field an ISO string).
 */
export interface FlyteType<Read, Write = Read, FieldRead = Read, FieldWrite = Write> {
  /** The Flyte type as it goes into a `TypedInterface`. */
  readonly literalType: LiteralType;
  /** The tag a union variant of this type carries (the Python transformer's name, docs/flyte-literals.md §2.8). */
  readonly tag: string;
  /** The JSON schema of this type as a struct field; undefined for types that cannot be struct fields. */
  readonly fieldSchema: JsonObject | undefined;
  /** Whether None is a valid value (Optional, or a union with a NONE variant). */
  readonly optional: boolean;
  readonly [readValue]?: Read;
  readonly [writeValue]?: Write;
  readonly [readField]?: FieldRead;
  readonly [writeField]?: FieldWrite;
}

/** Any {@link FlyteType}. */
export type AnyFlyteType = FlyteType<unknown, unknown, unknown, unknown>;

/** The value a connector receives for a type: `ValueOf<typeof t.int>` is `bigint`. */
export type ValueOf<T> = T extends FlyteType<infer R, unknown, unknown, unknown> ? R : never;
/** The values a connector may return for a type: `WritableValueOf<ReturnType<typeof t.int>>` is `bigint | number`. */
export type WritableValueOf<T> = T extends FlyteType<unknown, infer W, unknown, unknown> ? W : never;
/** @internal */
export type FieldValueOf<T> = T extends FlyteType<unknown, unknown, infer F, unknown> ? F : never;
/** @internal */
export type WritableFieldValueOf<T> = T extends FlyteType<unknown, unknown, unknown, infer F> ? F : never;
