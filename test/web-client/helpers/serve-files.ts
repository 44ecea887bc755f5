import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A file served by {@link serveFiles}. */
export interface ServedFile {
  readonly body: string | Uint8Array;
  readonly type: string;
}

/**
 * Serves fixed files on a loopback port: the page origin of the cross-origin browser tests, which must
 * differ from the service's origin for CORS to apply.
 */
export async function serveFiles(files: Readonly<Record<string, ServedFile>>): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const file = files[new URL(req.url ?? "/", "http://x").pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
