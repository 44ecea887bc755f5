import { Code, ConnectError } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { Compression } from "@connectrpc/connect/protocol";

/**
 * The request size limit applies after decompression: a small compressed body that inflates past
 * `readMaxBytes` (a gzip bomb) is RESOURCE_EXHAUSTED. connect-node's compressions already say so, but they
 * recognise zlib's "buffer too large" error with `instanceof Error`, which fails across realms (a vm
 * context, a test runner) and then reports INTERNAL "decompression failed"; this looks at the error's code
 * instead, so both transports answer the same everywhere.
 */
function limited(inner: Compression): Compression {
  return {
    name: inner.name,
    compress: (bytes) => inner.compress(bytes),
    decompress: (bytes, readMaxBytes) =>
      inner.decompress(bytes, readMaxBytes).catch((e: unknown) => {
        const code = (e as { cause?: { code?: unknown } } | undefined)?.cause?.code;
        if (code === "ERR_BUFFER_TOO_LARGE") {
          throw new ConnectError(`message is larger than configured readMaxBytes ${readMaxBytes} after decompression`, Code.ResourceExhausted);
        }
        throw e;
      }),
  };
}

/** The compressions both transports accept, in preference order (gzip, then br, connect's own default order). */
export const ACCEPTED_COMPRESSIONS: readonly Compression[] = [limited(compressionGzip), limited(compressionBrotli)];
