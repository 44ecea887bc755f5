import type * as http from "node:http";
import * as http2 from "node:http2";
import type { Config } from "../../config/config.js";

/** The connection-level protections of {@link Config}. */
export type ConnectionLimits = Pick<
  Config,
  "maxConnections" | "handshakeTimeoutMs" | "headersTimeoutMs" | "requestTimeoutMs" | "keepAliveTimeoutMs" | "http2IdleTimeoutMs" | "http2MaxConcurrentStreams"
>;

/**
 * HTTP/2 settings for either server: a bounded number of streams per connection, and node's defaults for
 * the rest (10 MB session memory, 1000 invalid frames, 100 refused streams before a session is cut).
 */
export function http2ServerOptions(limits: ConnectionLimits): http2.ServerOptions {
  return { settings: { maxConcurrentStreams: limits.http2MaxConcurrentStreams } };
}

/**
 * HTTP/1.1 protection on the listening server (which, with the one-port sniffer, also accepts every HTTP/2
 * connection, so `maxConnections` counts both):
 * - `headersTimeout`: a client trickling its headers (slowloris) is answered 408 and cut;
 * - `requestTimeout`: the same for a body trickled after complete headers;
 * - node checks both every `connectionsCheckingInterval`, 30 s by default: far too coarse, so 1 s here;
 * - `keepAliveTimeout`: idle keep-alive connections close;
 * - `maxConnections`: connections beyond it are closed as soon as they are accepted.
 * Must run before `listen`: node starts its checking timer when the server starts listening.
 */
export function limitHttp1(server: http.Server, limits: ConnectionLimits): void {
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  (server as http.Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1_000, limits.headersTimeoutMs);
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
}

/**
 * The HTTP/2 counterpart of `requestTimeout`, which node's http2 module lacks: a stream whose request has
 * not fully arrived `requestTimeoutMs` after it opened is reset with CANCEL. A request that arrived in time
 * may take as long as its handler needs (a health Watch stays open for hours).
 *
 * As node checks HTTP/1.1 requests, streams are checked by one sweep a second (more often for short
 * limits), not by a timer each: a timer set and cleared on every call was a measurable part of a small one.
 */
export function limitHttp2Streams(server: http2.Http2Server | http2.Http2SecureServer, limits: ConnectionLimits): void {
  // Streams whose request is still arriving, by when they opened: insertion order is age order.
  const arriving = new Map<http2.ServerHttp2Stream, number>();
  const everyMs = Math.max(50, Math.min(1_000, Math.floor(limits.requestTimeoutMs / 4)));
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () => {
    const tooOld = performance.now() - limits.requestTimeoutMs;
    for (const [stream, openedAt] of arriving) {
      if (openedAt > tooOld) break;
      arriving.delete(stream);
      // `remoteClose` is set once the client has half-closed: the whole request is here.
      if (!stream.destroyed && !stream.state?.remoteClose) stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    if (arriving.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  // One listener function for every stream (`this` is the stream): nothing is allocated per stream for it.
  function arrived(this: http2.ServerHttp2Stream): void {
    arriving.delete(this);
  }
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    if (stream.endAfterHeaders) return;
    arriving.set(stream, performance.now());
    stream.on("end", arrived);
    stream.on("close", arrived);
    if (sweeper === undefined) {
      sweeper = setInterval(sweep, everyMs);
      sweeper.unref();
    }
  });
}
