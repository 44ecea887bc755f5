/**
 * Where the service reads and writes Flyte data (outputs.pb, offloaded literals, connector files): the
 * settings for each object store. Credentials are never here: each cloud's SDK finds them through its own
 * standard chain (docs/storage.md).
 */
export interface StorageConfig {
  /** `s3://`: endpoint of an S3-compatible store (MinIO, Ceph, …). Empty: AWS, by region. */
  readonly s3Endpoint: string;
  /** `s3://`: path-style requests (`endpoint/bucket/key`), which most S3-compatible stores need. */
  readonly s3ForcePathStyle: boolean;
  /** `s3://`: the region. Empty: the SDK's chain (`AWS_REGION`, the profile), else us-east-1. */
  readonly s3Region: string;
  /** `gs://`: the JSON API endpoint. Empty: Google Cloud Storage (the SDK also honours `STORAGE_EMULATOR_HOST`). */
  readonly gcsEndpoint: string;
  /** `abfs://container/path` (no account in the URI): the storage account. */
  readonly azureAccount: string;
  /** The largest offloaded input literal read; larger ones are refused with INVALID_ARGUMENT. */
  readonly maxOffloadedLiteralBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_STORAGE_CONFIG: StorageConfig = Object.freeze({
  s3Endpoint: "",
  s3ForcePathStyle: false,
  s3Region: "",
  gcsEndpoint: "",
  azureAccount: "",
  maxOffloadedLiteralBytes: 256 * MiB,
});

/** Problems of a storage configuration, each naming its key. */
export function storageConfigProblems(c: StorageConfig): string[] {
  const problems: string[] = [];
  for (const key of ["s3Endpoint", "gcsEndpoint"] as const) {
    const v = c[key];
    if (typeof v !== "string") problems.push(`${key} must be a URL`);
    else if (v !== "" && !/^https?:\/\/[^/]/.test(v)) problems.push(`${key} must be an http:// or https:// URL, got ${JSON.stringify(v)}`);
  }
  if (typeof c.s3ForcePathStyle !== "boolean") problems.push("s3ForcePathStyle must be true or false");
  if (typeof c.s3Region !== "string") problems.push("s3Region must be a string");
  if (typeof c.azureAccount !== "string" || !/^[a-z0-9]{0,24}$/.test(c.azureAccount))
    problems.push("azureAccount must be a storage account name (3 to 24 lowercase letters and digits)");
  const max = c.maxOffloadedLiteralBytes;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1024 || max > 2 ** 31 - 1) {
    problems.push(`maxOffloadedLiteralBytes must be an integer from 1024 to ${2 ** 31 - 1}, got ${JSON.stringify(max)}`);
  }
  return problems;
}
