/**
 * Whether a value is a plain object (`{…}` or `Object.create(null)`), the JS form of Flyte maps and structs,
 * as opposed to arrays, Dates, Maps, class instances and the like.
 * @internal
 */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Sets a key on a plain object; `__proto__` becomes an own property instead of changing the prototype. @internal */
export function setEntry(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
