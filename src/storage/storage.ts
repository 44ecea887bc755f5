import type { StorageConfig } from "../config/storage-config.js";
import { parseFlyteUri, type StoreLocation } from "./flyte-uri.js";
import { localStore } from "./local-store.js";
import type { ObjectStore, ReadOptions, WriteOptions } from "./object-store.js";

/**
 * Reads and writes Flyte URIs on every supported store: `s3://`, `gs://`, `abfs://`/`abfss://` and Azure blob
 * URLs, `file://` and plain paths. Each cloud's SDK is imported on the first URI of its scheme, so a service
 * that only uses local files (or none) never loads one. Both calls throw {@link StorageError} naming the URI.
 */
export interface Storage {
  read(uri: string, options: ReadOptions): Promise<Uint8Array>;
  /** Resolves once the object is durable and whole; see {@link ObjectStore}. */
  write(uri: string, bytes: Uint8Array, options?: WriteOptions): Promise<void>;
}

type CloudStore = Exclude<StoreLocation["store"], "file">;

/** Builds the storage of a service (or a local run) from its configuration. */
export function createStorage(config: StorageConfig): Storage {
  const local = localStore();
  const clouds = new Map<CloudStore, Promise<ObjectStore>>();
  const load = (store: CloudStore): Promise<ObjectStore> => {
    let loaded = clouds.get(store);
    if (loaded === undefined) {
      loaded = loadCloudStore(store, config);
      // A failed import (a broken install) is retried on the next call rather than remembered.
      loaded.catch(() => clouds.delete(store));
      clouds.set(store, loaded);
    }
    return loaded;
  };
  const storeOf = (location: StoreLocation) => (location.store === "file" ? local : load(location.store));
  return {
    async read(uri, options) {
      const location = parseFlyteUri(uri, "read");
      return (await storeOf(location)).read(location, uri, options);
    },
    async write(uri, bytes, options = {}) {
      const location = parseFlyteUri(uri, "write");
      return (await storeOf(location)).write(location, uri, bytes, options);
    },
  };
}

async function loadCloudStore(store: CloudStore, config: StorageConfig): Promise<ObjectStore> {
  switch (store) {
    case "s3":
      return (await import("./s3-store.js")).s3Store(config);
    case "gs":
      return (await import("./gcs-store.js")).gcsStore(config);
    case "azure":
      return (await import("./azure-store.js")).azureStore(config);
  }
}
