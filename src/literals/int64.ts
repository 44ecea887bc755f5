/** The int64 range of a Flyte INTEGER (`Primitive.integer`). @internal */
export const INT64_MIN = -(2n ** 63n);
/** @internal */
export const INT64_MAX = 2n ** 63n - 1n;

/** Whether a bigint fits a protobuf int64. @internal */
export function isInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}
