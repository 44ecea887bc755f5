/**
 * A protobuf map field whose entries were read off the wire but not yet put into its object. A JavaScript
 * object of 800 000 keys (a maximum-size literal map) costs V8 single operations that no slicing can split:
 * the last growth of its hash table takes a quarter of a second, and `Object.keys` of it about half a second,
 * because V8 sorts a dictionary object's keys by insertion order. Its 800 000 small values, decoded up front,
 * are millions of objects that all survive into the old generation, which is most of what garbage collection
 * then costs. So the sliced decoder keeps a large map as the places of its entries in the request's bytes,
 * and the conversion reads the entries from there, decoding each key and value as it converts it: the decoded
 * value is garbage a moment later, and the key lives on only in the converted object. The map's object is built only if something else reads the field. A deferred field
 * reads, writes and encodes as the object `fromBinary` would have built; a value that does not decode throws
 * where it is read (`fromBinary` would have thrown at once).
 */

/** The entries of a map field, in the object's order. */
export interface MapEntries<V> {
  readonly size: number;
  /** The key of entry `i`, `0 <= i < size`. */
  keyAt(i: number): string;
  /** The value of entry `i`, decoded now if its decoding was deferred (it may then throw). */
  valueAt(i: number): V;
  /**
   * When entry `i`'s value is a literal of one primitive and nothing else (`Literal{scalar{primitive}}`, what a
   * large map is mostly made of), writes the primitive's oneof into `out` without building the value's three
   * messages, and returns true; otherwise false, and `valueAt` is the way. Readers that keep no part of the
   * literal (a conversion to an int, float, string or bool) use it: a maximum-size map then allocates little
   * more than its converted values, and garbage collection has little to do while it is converted.
   */
  readPrimitive?(i: number, out: PrimitiveOneof): boolean;
}

/** A `Primitive`'s oneof, as {@link MapEntries.readPrimitive} writes it: `{case: "integer", value: 42n}` and so on. */
export interface PrimitiveOneof {
  case: string | undefined;
  value: unknown;
}

const deferred = new WeakMap<object, Map<string, MapEntries<unknown>>>();

/**
 * Replaces `message[localName]` (a map field) by a property that builds the object from `entries` on its
 * first read, in their order, a repeated key keeping its first place and its last value, as protobuf's
 * decoding does. Until then {@link mapFieldEntries} reads the entries without building it.
 * @internal
 */
export function deferMapField(message: Record<string, unknown>, localName: string, entries: MapEntries<unknown>): void {
  const fields = deferred.get(message) ?? new Map<string, MapEntries<unknown>>();
  deferred.set(message, fields);
  fields.set(localName, entries);
  const settle = (value: unknown) => {
    fields.delete(localName);
    Object.defineProperty(message, localName, { value, writable: true, enumerable: true, configurable: true });
  };
  Object.defineProperty(message, localName, {
    enumerable: true,
    configurable: true,
    get() {
      const record: Record<string, unknown> = {};
      for (let i = 0; i < entries.size; i++) {
        const key = entries.keyAt(i);
        const value = entries.valueAt(i);
        // A "__proto__" key is an own entry, as protobuf-es's decoder makes it.
        if (key === "__proto__") Object.defineProperty(record, "__proto__", { value, writable: true, enumerable: true, configurable: true });
        else record[key] = value;
      }
      settle(record);
      return record;
    },
    set: settle,
  });
}

/**
 * The entries of a map field (`message[localName]`) in the object's order, without building the object when
 * its decoding deferred it. Entries of a deferred field may repeat a key (the last one counts); readers that
 * put them into an object in order get the object protobuf decodes.
 * @internal
 */
export function mapFieldEntries<V>(message: object, localName: string): MapEntries<V> {
  const pending = deferred.get(message)?.get(localName);
  if (pending !== undefined) return pending as MapEntries<V>;
  const record = (message as Record<string, Record<string, V>>)[localName]!;
  const keys = Object.keys(record);
  return { size: keys.length, keyAt: (i) => keys[i]!, valueAt: (i) => record[keys[i]!]! };
}
