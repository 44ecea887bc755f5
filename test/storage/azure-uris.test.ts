import { DEFAULT_STORAGE_CONFIG } from "../../src/config/storage-config.js";
import { StorageError } from "../../src/storage/storage-error.js";
import { createStorage } from "../../src/storage/storage.js";
import { AZURITE_ACCOUNT, azuriteConnectionString, startAzurite, withEnv, type AzuriteServer } from "./support/stores.js";

/** Every Azure URI form against Azurite: they name the same blob. */
let azurite: AzuriteServer;
beforeAll(async () => {
  azurite = await startAzurite();
  const { BlobServiceClient } = await import("@azure/storage-blob");
  await BlobServiceClient.fromConnectionString(azuriteConnectionString(azurite.port)).getContainerClient("flyte-data").create();
}, 60_000);
afterAll(() => azurite?.close());

test("abfss://container@account…, abfs://container/path with azureAccount and the emulator's blob URL reach the same blob", async () => {
  await withEnv({ AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(azurite.port) }, async () => {
    const storage = createStorage({ ...DEFAULT_STORAGE_CONFIG, azureAccount: AZURITE_ACCOUNT });
    await storage.write(`abfss://flyte-data@${AZURITE_ACCOUNT}.dfs.core.windows.net/forms/a b/outputs.pb`, Buffer.from("same blob"));
    const forms = [`abfs://flyte-data/forms/a b/outputs.pb`, `http://127.0.0.1:${azurite.port}/${AZURITE_ACCOUNT}/flyte-data/forms/a%20b/outputs.pb`];
    for (const uri of forms) expect(Buffer.from(await storage.read(uri, { maxBytes: 100 })).toString()).toBe("same blob");
  });
});

test("an http(s) URL that is neither an Azure blob host nor the connection string's endpoint is refused", async () => {
  await withEnv({ AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(azurite.port) }, async () => {
    const storage = createStorage(DEFAULT_STORAGE_CONFIG);
    const err = await storage.read("https://example.com/flyte-data/x.pb", { maxBytes: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).failure).toBe("unsupported");
    expect((err as StorageError).message).toMatch(
      /^cannot read https:\/\/example\.com\/flyte-data\/x\.pb: http\(s\) URLs are read only from Azure Blob Storage hosts/,
    );
  });
});

test("abfs://container/path without an account is refused with what to set", async () => {
  await withEnv({ AZURE_STORAGE_CONNECTION_STRING: undefined }, async () => {
    const err = await createStorage(DEFAULT_STORAGE_CONFIG)
      .read("abfs://flyte-data/x.pb", { maxBytes: 100 })
      .catch((e: unknown) => e);
    expect((err as StorageError).message).toMatch(
      /the URI names no storage account: use abfs\[s\]:\/\/container@account\.dfs\.core\.windows\.net\/path, or set azureAccount/,
    );
  });
});
