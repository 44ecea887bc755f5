import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Storage } from "@google-cloud/storage";
import type { StorageConfig } from "../config/storage-config.js";
import type { StoreLocation } from "./flyte-uri.js";
import { collectBounded, tooLargeDetail, type ObjectStore } from "./object-store.js";
import { causeOf, failureOf, StorageError } from "./storage-error.js";

/**
 * `gs://bucket/object` through the official SDK. Credentials are Application Default Credentials only:
 * `GOOGLE_APPLICATION_CREDENTIALS`, workload identity (GKE) or the metadata server. A write is one
 * single-request (multipart) upload, which GCS makes visible only whole; the SDK checks the stored object's
 * CRC32C/MD5 against what it sent, and deletes it and fails on a mismatch.
 *
 * With `gcsEndpoint` (or `STORAGE_EMULATOR_HOST`) the SDK talks to that endpoint without authentication,
 * as emulators expect. Loaded by a dynamic import on the first `gs://` URI.
 */
export function gcsStore(config: StorageConfig): ObjectStore {
  const storage = new Storage({
    ...(config.gcsEndpoint !== "" ? { apiEndpoint: config.gcsEndpoint } : {}),
    retryOptions: { autoRetry: true, maxRetries: 2, totalTimeout: 30 },
  });
  const fileOf = (location: StoreLocation) => {
    if (location.store !== "gs") throw new TypeError(`GCS store given a ${location.store} location`);
    return storage.bucket(location.bucket).file(location.key);
  };
  return {
    async read(location, uri, options) {
      try {
        const stream = fileOf(location).createReadStream({ validation: true });
        const onAbort = () => stream.destroy(options.signal?.reason as Error);
        options.signal?.addEventListener("abort", onAbort, { once: true });
        try {
          return await collectBounded(stream, options.maxBytes, (size) => new StorageError("read", uri, "too-large", tooLargeDetail(size, options.maxBytes)));
        } finally {
          options.signal?.removeEventListener("abort", onAbort);
          stream.destroy();
        }
      } catch (err) {
        if (err instanceof StorageError) throw err;
        throw new StorageError("read", uri, failureOf(err, options.signal), causeOf(err), { cause: err });
      }
    },
    async write(location, uri, bytes, options) {
      try {
        const upload = fileOf(location).createWriteStream({ resumable: false, validation: true, metadata: { contentType: "application/octet-stream" } });
        // The stream finishes only once GCS answered the upload and the hashes matched.
        await pipeline(Readable.from([bytes]), upload, { signal: options.signal });
      } catch (err) {
        throw new StorageError("write", uri, failureOf(err, options.signal), causeOf(err), { cause: err });
      }
    },
  };
}
