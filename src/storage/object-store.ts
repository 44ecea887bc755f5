import type { StoreLocation } from "./flyte-uri.js";

/** Options of every read. */
export interface ReadOptions {
  /** A larger object is refused with a `too-large` {@link StorageError} before it is read whole. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

/** Options of every write. */
export interface WriteOptions {
  readonly signal?: AbortSignal;
}

/**
 * One kind of store. `write` resolves only once the object is durable and whole (the store acknowledged the
 * upload; a local file is synced and renamed into place), and an object is never visible half written.
 * Both throw {@link StorageError} naming the URI.
 */
export interface ObjectStore {
  read(location: StoreLocation, uri: string, options: ReadOptions): Promise<Uint8Array>;
  write(location: StoreLocation, uri: string, bytes: Uint8Array, options: WriteOptions): Promise<void>;
}

/** Collects a stream of chunks, refusing it once it passes `maxBytes`. */
export async function collectBounded(chunks: AsyncIterable<Uint8Array | string>, maxBytes: number, tooLarge: (size: number) => Error): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += buf.length;
    if (size > maxBytes) throw tooLarge(size);
    parts.push(buf);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}

/** The message of a `too-large` failure. */
export function tooLargeDetail(size: number | undefined, maxBytes: number): string {
  return `the object is ${size === undefined ? "larger than" : `${size} bytes, over`} the ${maxBytes}-byte limit`;
}
