import { CodedError } from "../errors/coded-error.js";

/**
 * Resource metadata over the configured limit (`maxResourceMetaBytes`, 64 KiB by default). It is the
 * connector's bug, not the caller's: CreateTask answers INTERNAL with what to do instead, rather than a
 * response the executor could not receive (4 MiB) or store in its TaskAction object (etcd's ~1.5 MiB).
 */
export class ResourceMetaTooLargeError extends CodedError {
  static override readonly code = "FC_RESOURCE_META_TOO_LARGE";
}

/** Throws {@link ResourceMetaTooLargeError} when `meta` is larger than `maxBytes`. */
export function checkResourceMetaSize(meta: Uint8Array, maxBytes: number, connectorName: string): void {
  if (meta.length <= maxBytes) return;
  throw new ResourceMetaTooLargeError(
    `connector ${connectorName} returned ${sizeText(meta.length)} of resource metadata, over the ${sizeText(maxBytes)} limit (maxResourceMetaBytes). ` +
      "The executor stores the metadata in its TaskAction object and sends it back on every GetTask: keep only what identifies the job " +
      "(an id, a region), and write large data under the output prefix with ctx.storage (ctx.storage.writeOutputs for outputs)",
  );
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`;
}
