import { ConfigError } from "../../src/config/config.js";
import { loadConfig } from "../../src/config/load-config.js";
import { parseFlyteUri, uriUnder } from "../../src/storage/flyte-uri.js";
import { scrubCredentials } from "../../src/storage/storage-error.js";

describe("storage settings", () => {
  test("defaults: AWS by region chain, GCS, no account, 64 KiB metadata, 256 MiB offloaded literals", () => {
    const c = loadConfig({ env: {} });
    expect(c.storage).toEqual({
      s3Endpoint: "",
      s3ForcePathStyle: false,
      s3Region: "",
      gcsEndpoint: "",
      azureAccount: "",
      maxOffloadedLiteralBytes: 256 * 1024 * 1024,
    });
    expect(c.maxResourceMetaBytes).toBe(64 * 1024);
  });

  test("flags, environment and file set them; a plain boolean flag means true", () => {
    const c = loadConfig({
      env: { FLYTE_CONNECT_S3_REGION: "eu-west-1", FLYTE_CONNECT_MAX_RESOURCE_META_BYTES: "32768" },
      flags: { "s3-endpoint": "http://minio:9000", "s3-force-path-style": true, "gcs-endpoint": "http://127.0.0.1:4443", "azure-account": "flytedata" },
    });
    expect(c.storage).toMatchObject({
      s3Endpoint: "http://minio:9000",
      s3ForcePathStyle: true,
      s3Region: "eu-west-1",
      gcsEndpoint: "http://127.0.0.1:4443",
      azureAccount: "flytedata",
    });
    expect(c.maxResourceMetaBytes).toBe(32768);
  });

  test("bad values are listed with where they came from", () => {
    expect(() => loadConfig({ env: { FLYTE_CONNECT_S3_ENDPOINT: "minio:9000", FLYTE_CONNECT_AZURE_ACCOUNT: "Bad_Name" } })).toThrow(ConfigError);
    try {
      loadConfig({ env: { FLYTE_CONNECT_S3_ENDPOINT: "minio:9000", FLYTE_CONNECT_AZURE_ACCOUNT: "Bad_Name" } });
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        's3Endpoint must be an http:// or https:// URL, got "minio:9000" (set by FLYTE_CONNECT_S3_ENDPOINT)',
        "azureAccount must be a storage account name (3 to 24 lowercase letters and digits) (set by FLYTE_CONNECT_AZURE_ACCOUNT)",
      ]);
    }
  });
});

describe("Flyte URIs", () => {
  test("every supported form", () => {
    expect(parseFlyteUri("s3://my-bucket/ab/run/a0/0/outputs.pb")).toEqual({ store: "s3", bucket: "my-bucket", key: "ab/run/a0/0/outputs.pb" });
    expect(parseFlyteUri("gs://b/k%20with%20space")).toEqual({ store: "gs", bucket: "b", key: "k with space" });
    expect(parseFlyteUri("abfss://flyte@acct1.dfs.core.windows.net/p/q")).toEqual({
      store: "azure",
      account: "acct1",
      container: "flyte",
      blob: "p/q",
      endpoint: "https://acct1.blob.core.windows.net",
    });
    expect(parseFlyteUri("abfs://flyte@acct1.dfs.core.chinacloudapi.cn/p")).toMatchObject({ endpoint: "https://acct1.blob.core.chinacloudapi.cn" });
    expect(parseFlyteUri("abfs://flyte/p/q")).toEqual({ store: "azure", account: "", container: "flyte", blob: "p/q" });
    expect(parseFlyteUri("https://acct1.blob.core.windows.net/flyte/p/q")).toEqual({
      store: "azure",
      account: "acct1",
      container: "flyte",
      blob: "p/q",
      endpoint: "https://acct1.blob.core.windows.net",
    });
    expect(parseFlyteUri("file:///tmp/x/outputs.pb")).toEqual({ store: "file", path: "/tmp/x/outputs.pb" });
    expect(parseFlyteUri("/tmp/x")).toEqual({ store: "file", path: "/tmp/x" });
  });

  test("anything else is refused naming the URI", () => {
    expect(() => parseFlyteUri("ftp://h/x")).toThrow("cannot read ftp://h/x: the ftp:// scheme is not supported");
    expect(() => parseFlyteUri("s3://bucket-only")).toThrow("cannot read s3://bucket-only: the URI names a bucket but no object");
    expect(() => parseFlyteUri("abfs://c@example.com/x")).toThrow(/expected abfs\[s\]:\/\/container@account\.dfs\.core\.windows\.net\/path/);
  });

  test("names under a prefix stay under it", () => {
    expect(uriUnder("s3://b/ab/run/a0/0/", "outputs.pb")).toBe("s3://b/ab/run/a0/0/outputs.pb");
    expect(uriUnder("/data/run/0", "results/part-0.csv")).toBe("/data/run/0/results/part-0.csv");
    expect(() => uriUnder("s3://b/p", "../other/outputs.pb")).toThrow(/is not a relative path of plain segments/);
    expect(() => uriUnder("s3://b/p", "/abs")).toThrow(/is not a relative path/);
    expect(() => uriUnder("", "outputs.pb")).toThrow(/the task has no output prefix/);
  });

  test("credentials are cut out of URIs and SDK messages", () => {
    expect(scrubCredentials("https://a.blob.core.windows.net/c/b?sv=2024&sig=abc%2Bdef&se=1")).toBe(
      "https://a.blob.core.windows.net/c/b?sv=2024&sig=[REDACTED]&se=1",
    );
    expect(scrubCredentials("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0;")).toBe(
      "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=[REDACTED];",
    );
    expect(scrubCredentials("GET /k?X-Amz-Credential=AKIA/x&X-Amz-Signature=deadbeef")).toBe("GET /k?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]");
  });
});
