import * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";

/**
 * One cleartext port for HTTP/1.1 and HTTP/2 with prior knowledge (h2c). Node's
 * `http2.createServer({ allowHTTP1: true })` falls back to HTTP/1 only over TLS (nodejs/node#44887), and the
 * Flyte executor speaks h2c while browsers and curl speak HTTP/1.1, so we look at the first bytes of each
 * connection ourselves: the 24-byte HTTP/2 preface goes to an HTTP/2 server, anything else to HTTP/1.1.
 *
 * The returned object is the listening `http.Server`, so fastify's expectations hold (`listen`, `address`,
 * `closeIdleConnections`, connection tracking for request timeouts), plus the `closeHttp2Sessions()` hook
 * fastify calls on close to send GOAWAY.
 */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * fastify's request handler. It is typed for HTTP/1 but serves HTTP/2 compatibility requests as well:
 * fastify picks its behaviour per request from `httpVersionMajor`.
 */
export type RequestHandler = http.RequestListener;

/** An HTTP/1.1 server that also hands h2c connections to an inner HTTP/2 server. */
export type OnePortServer = http.Server & {
  readonly http2Server: http2.Http2Server;
  /** Sends GOAWAY on every HTTP/2 session: in-flight streams finish, new ones go elsewhere. */
  closeHttp2Sessions(): void;
};

/** Options of {@link createOnePortServer}. */
export interface OnePortServerOptions {
  /** How long a new connection may stay silent before its first bytes. Default 10 s. */
  readonly sniffTimeoutMs?: number;
  /** HTTP/1.1 keep-alive; fastify's default of 72 s, which it only applies to servers it creates. */
  readonly keepAliveTimeoutMs?: number;
  /** Closes HTTP/2 sessions idle this long; 0 keeps them open (the executor keeps one channel). */
  readonly http2SessionIdleTimeoutMs?: number;
  /** Settings for the HTTP/2 side, such as `maxSessionMemory`. */
  readonly http2?: http2.ServerOptions;
}

/** How long a socket whose peer has closed may take to flush what is queued for it. */
const FLUSH_AFTER_PEER_CLOSED_MS = 1_000;

function closeAfterPeer(socket: net.Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), FLUSH_AFTER_PEER_CLOSED_MS).unref();
}

export function createOnePortServer(handler: RequestHandler, options: OnePortServerOptions = {}): OnePortServer {
  const h1 = http.createServer(handler);
  h1.keepAliveTimeout = options.keepAliveTimeoutMs ?? 72_000;
  h1.headersTimeout = h1.keepAliveTimeout + 1_000;
  const h2 = http2.createServer(options.http2 ?? {}, handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (options.http2SessionIdleTimeoutMs) session.setTimeout(options.http2SessionIdleTimeoutMs, () => session.close());
  });
  // A broken peer must not take the process down; the session is destroyed either way.
  h2.on("sessionError", () => {});

  const [h1ConnectionListener] = h1.listeners("connection") as Array<(socket: net.Socket) => void>;
  if (!h1ConnectionListener) throw new Error("node:http server has no connection listener");
  h1.removeAllListeners("connection");
  h1.on("connection", (socket: net.Socket) => {
    let buffered: Buffer = Buffer.alloc(0);
    const onEarlyError = () => socket.destroy();
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, H2_PREFACE.length);
      const isH2 = buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && buffered.length < H2_PREFACE.length) return; // a preface may arrive a byte at a time
      socket.removeListener("data", onData);
      socket.removeListener("error", onEarlyError);
      socket.removeListener("end", onEarlyError);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(buffered);
      if (isH2) {
        // node's HTTP server accepts sockets with allowHalfOpen, and its HTTP/2 session never answers a FIN:
        // a client that leaves without GOAWAY would hold the socket in CLOSE-WAIT, its streams (a health
        // Watch) and its connection slot until the idle timeout. HTTP/2 has no half-closed connections, so
        // a FIN ends the connection: what is queued is flushed, and a peer that no longer reads is cut.
        socket.once("end", () => closeAfterPeer(socket));
        // The HTTP/2 session reads what was unshifted; resuming here would hand it a torn preface.
        h2.emit("connection", socket);
      } else {
        h1ConnectionListener.call(h1, socket);
        socket.resume();
      }
    };
    socket.on("error", onEarlyError);
    // node's HTTP server allows half-open sockets: a client that leaves before its first bytes would
    // otherwise keep its slot (and count against maxConnections) until the sniff timeout.
    socket.once("end", onEarlyError);
    socket.setTimeout(options.sniffTimeoutMs ?? 10_000, () => socket.destroy());
    socket.on("data", onData);
  });

  const server = h1 as OnePortServer;
  Object.defineProperty(server, "http2Server", { value: h2 });
  server.closeHttp2Sessions = () => {
    for (const session of sessions) session.close();
  };
  const closeAll = h1.closeAllConnections.bind(h1);
  h1.closeAllConnections = () => {
    closeAll();
    for (const session of sessions) session.destroy();
  };
  return server;
}
