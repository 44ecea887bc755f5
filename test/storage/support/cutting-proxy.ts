import { createServer, Socket, type AddressInfo, type Server } from "node:net";

/**
 * A TCP proxy in front of a store that forwards everything until a connection has sent `cutAfterBytes`
 * towards the store, then destroys both sides: the store going away in the middle of an upload. Reads and
 * small requests pass; `cutAfterBytes: Infinity` forwards everything.
 */
export interface CuttingProxy {
  readonly port: number;
  /** Connections cut so far. */
  readonly cuts: number;
  cutAfterBytes: number;
  close(): Promise<void>;
}

export async function startCuttingProxy(target: { host: string; port: number }, cutAfterBytes: number): Promise<CuttingProxy> {
  const sockets = new Set<Socket>();
  let cuts = 0;
  const proxy: CuttingProxy = {
    port: 0,
    get cuts() {
      return cuts;
    },
    cutAfterBytes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.connect(target.port, target.host);
    client.on("data", (chunk: Buffer) => {
      sent += chunk.length;
      if (sent > proxy.cutAfterBytes) {
        cuts++;
        upstream.write(chunk.subarray(0, Math.max(0, chunk.length - (sent - proxy.cutAfterBytes))), end);
        return;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", () => {
        sockets.delete(s);
        end();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  (proxy as { port: number }).port = (server.address() as AddressInfo).port;
  return proxy;
}
