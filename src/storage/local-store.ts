import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { StoreLocation } from "./flyte-uri.js";
import { tooLargeDetail, type ObjectStore, type ReadOptions, type WriteOptions } from "./object-store.js";
import { causeOf, failureOf, StorageError } from "./storage-error.js";

/**
 * `file://` URIs and plain paths: the default store, so that everything works on one machine. A write goes
 * to a temporary file beside the target, is fsynced, renamed over the target and the directory fsynced, so
 * a reader sees the old object or the whole new one, never part of it, and a crash loses nothing reported.
 */
export function localStore(): ObjectStore {
  return {
    async read(location, uri, options: ReadOptions) {
      const path = pathOf(location);
      try {
        const size = (await stat(path)).size;
        if (size > options.maxBytes) throw new StorageError("read", uri, "too-large", tooLargeDetail(size, options.maxBytes));
        const handle = await open(path, "r");
        try {
          const buf = Buffer.allocUnsafe(size);
          let offset = 0;
          while (offset < size) {
            options.signal?.throwIfAborted();
            const { bytesRead } = await handle.read(buf, offset, size - offset, offset);
            if (bytesRead === 0) break;
            offset += bytesRead;
          }
          return offset === size ? buf : buf.subarray(0, offset);
        } finally {
          await handle.close();
        }
      } catch (err) {
        if (err instanceof StorageError) throw err;
        throw new StorageError("read", uri, failureOf(err, options.signal), causeOf(err), { cause: err });
      }
    },

    async write(location, uri, bytes, options: WriteOptions) {
      const path = pathOf(location);
      const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        options.signal?.throwIfAborted();
        await mkdir(dirname(path), { recursive: true });
        const handle = await open(temp, "wx", 0o644);
        try {
          let offset = 0;
          while (offset < bytes.length) {
            options.signal?.throwIfAborted();
            const { bytesWritten } = await handle.write(bytes, offset, Math.min(bytes.length - offset, 8 * 1024 * 1024));
            offset += bytesWritten;
          }
          await handle.sync();
        } finally {
          await handle.close();
        }
        options.signal?.throwIfAborted();
        await rename(temp, path);
        await syncDirectory(dirname(path));
      } catch (err) {
        await rm(temp, { force: true }).catch(() => undefined);
        throw new StorageError("write", uri, failureOf(err, options.signal), causeOf(err), { cause: err });
      }
    },
  };
}

function pathOf(location: StoreLocation): string {
  if (location.store !== "file") throw new TypeError(`local store given a ${location.store} location`);
  return location.path;
}

/** Makes the rename itself durable; some file systems refuse to open a directory for sync, which is fine. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // EISDIR/EINVAL/EPERM on file systems without directory fsync: the rename is as durable as it gets there.
  } finally {
    await handle?.close();
  }
}
