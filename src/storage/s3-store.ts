import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { StorageConfig } from "../config/storage-config.js";
import type { StoreLocation } from "./flyte-uri.js";
import { collectBounded, tooLargeDetail, type ObjectStore } from "./object-store.js";
import { causeOf, failureOf, StorageError } from "./storage-error.js";

/**
 * `s3://bucket/key` through the AWS SDK v3, on AWS or an S3-compatible store (`s3Endpoint`,
 * `s3ForcePathStyle`). Credentials come from the SDK's default chain only: environment, web identity (IRSA,
 * EKS Pod Identity), shared config and SSO profiles, ECS and EC2 instance metadata. A write is one PutObject:
 * S3 makes an object visible only once the whole body has arrived and been stored.
 *
 * Loaded by a dynamic import on the first `s3://` URI, so that the SDK costs nothing to a service that never
 * touches S3.
 */
export function s3Store(config: StorageConfig): ObjectStore {
  const client = new S3Client({
    // The region chain of the SDK also reads profiles; without any region, us-east-1, and S3 redirects
    // requests for buckets elsewhere (followRegionRedirects).
    region: config.s3Region !== "" ? config.s3Region : async () => process.env["AWS_REGION"] ?? process.env["AWS_DEFAULT_REGION"] ?? "us-east-1",
    followRegionRedirects: true,
    ...(config.s3Endpoint !== "" ? { endpoint: config.s3Endpoint } : {}),
    forcePathStyle: config.s3ForcePathStyle,
    maxAttempts: 3,
  });
  const where = (location: StoreLocation) => {
    if (location.store !== "s3") throw new TypeError(`S3 store given a ${location.store} location`);
    return { Bucket: location.bucket, Key: location.key };
  };
  return {
    async read(location, uri, options) {
      try {
        const response = await client.send(new GetObjectCommand(where(location)), { abortSignal: options.signal });
        const length = response.ContentLength;
        if (length !== undefined && length > options.maxBytes) {
          (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
          throw new StorageError("read", uri, "too-large", tooLargeDetail(length, options.maxBytes));
        }
        if (response.Body === undefined) return new Uint8Array(0);
        return await collectBounded(
          response.Body as AsyncIterable<Uint8Array>,
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
        await client.send(new PutObjectCommand({ ...where(location), Body: bytes, ContentLength: bytes.length, ContentType: "application/octet-stream" }), {
          abortSignal: options.signal,
        });
      } catch (err) {
        throw new StorageError("write", uri, failureOf(err, options.signal), causeOf(err), { cause: err });
      }
    },
  };
}
