import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { StorageConfig } from "../config/storage-config.js";
import type { StoreLocation } from "./flyte-uri.js";
import { collectBounded, tooLargeDetail, type ObjectStore } from "./object-store.js";
import { causeOf, failureOf, StorageError } from "./storage-error.js";

/**
 * Azure Blob Storage (`abfs://`, `abfss://`, blob URLs) through the official SDK. Credentials come from
 * `DefaultAzureCredential` (environment service principal, workload identity, managed identity, Azure CLI),
 * or, for emulators such as Azurite and for account keys, the connection string in
 * `AZURE_STORAGE_CONNECTION_STRING` (the variable Azure's own tools read). A write is `uploadData`: one Put
 * Blob, or staged blocks committed by one Put Block List for large data; a blob is visible only once whole.
 *
 * Loaded by a dynamic import on the first Azure URI; `@azure/identity` only when a credential is needed.
 */
export function azureStore(config: StorageConfig, env: NodeJS.ProcessEnv = process.env): ObjectStore {
  const connectionString = env["AZURE_STORAGE_CONNECTION_STRING"] ?? "";
  const retryOptions = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 };
  const fromConnectionString = connectionString !== "" ? BlobServiceClient.fromConnectionString(connectionString, { retryOptions }) : undefined;
  const byEndpoint = new Map<string, Promise<BlobServiceClient>>();

  const withCredential = (endpoint: string) => {
    let client = byEndpoint.get(endpoint);
    if (client === undefined) {
      client = import("@azure/identity").then(({ DefaultAzureCredential }) => new BlobServiceClient(endpoint, new DefaultAzureCredential(), { retryOptions }));
      byEndpoint.set(endpoint, client);
    }
    return client;
  };

  async function containerOf(location: StoreLocation, uri: string, operation: "read" | "write"): Promise<{ container: ContainerClient; blob: string }> {
    if (location.store !== "azure") throw new TypeError(`Azure store given a ${location.store} location`);
    const refuse = (detail: string) => new StorageError(operation, uri, "unsupported", detail);
    if (location.url !== undefined) {
      // An emulator URL: only under the connection string's blob endpoint.
      const base = fromConnectionString?.url.replace(/\/+$/, "");
      const href = location.url.href;
      if (base === undefined || !href.startsWith(`${base}/`)) {
        throw refuse(
          "http(s) URLs are read only from Azure Blob Storage hosts (account.blob.core.windows.net) or the endpoint of AZURE_STORAGE_CONNECTION_STRING",
        );
      }
      const [container, ...rest] = decodeURIComponent(href.slice(base.length + 1).split(/[?#]/)[0]!).split("/");
      if (!container || rest.length === 0) throw new StorageError(operation, uri, "invalid-uri", "expected <endpoint>/container/path");
      return { container: fromConnectionString!.getContainerClient(container), blob: rest.join("/") };
    }
    const account = location.account !== "" ? location.account : config.azureAccount !== "" ? config.azureAccount : fromConnectionString?.accountName;
    if (account === undefined || account === "") {
      throw refuse("the URI names no storage account: use abfs[s]://container@account.dfs.core.windows.net/path, or set azureAccount");
    }
    const service =
      fromConnectionString?.accountName === account
        ? fromConnectionString
        : await withCredential(location.endpoint ?? `https://${account}.blob.core.windows.net`);
    return { container: service.getContainerClient(location.container), blob: location.blob };
  }

  return {
    async read(location, uri, options) {
      try {
        const { container, blob } = await containerOf(location, uri, "read");
        const response = await container.getBlobClient(blob).download(0, undefined, { abortSignal: options.signal });
        const length = response.contentLength;
        const body = response.readableStreamBody;
        if (length !== undefined && length > options.maxBytes) {
          (body as { destroy?: () => void } | undefined)?.destroy?.();
          throw new StorageError("read", uri, "too-large", tooLargeDetail(length, options.maxBytes));
        }
        if (body === undefined) return new Uint8Array(0);
        return await collectBounded(
          body as AsyncIterable<Uint8Array>,
          options.maxBytes,
          (size) => new StorageError("read", uri, "too-large", tooLargeDetail(size, options.maxBytes)),
        );
      } catch (err) {
        if (err instanceof StorageError) throw err;
        throw new StorageError("read", uri, failureOf(err, options.signal), causeOf(err), { cause: err });
      }
    },
    async write(location, uri, bytes, options) {
      try {
        const { container, blob } = await containerOf(location, uri, "write");
        await container
          .getBlockBlobClient(blob)
          .uploadData(bytes, { abortSignal: options.signal, blobHTTPHeaders: { blobContentType: "application/octet-stream" } });
      } catch (err) {
        if (err instanceof StorageError) throw err;
        throw new StorageError("write", uri, failureOf(err, options.signal), causeOf(err), { cause: err });
      }
    },
  };
}
