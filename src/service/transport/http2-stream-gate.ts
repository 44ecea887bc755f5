import * as http2 from "node:http2";

/** Options of {@link gateHttp2Streams}. */
export interface Http2StreamGateOptions {
  /** Streams one connection may open over its life; then GOAWAY (NO_ERROR) and the client reconnects. 0: no limit. */
  readonly maxStreamsPerConnection: number;
  /** New streams one connection may open within a second; more: GOAWAY ENHANCE_YOUR_CALM and the connection is cut. 0: no limit. */
  readonly maxStreamsPerSecond: number;
  /** Called when a connection is cut or closed by these limits. */
  readonly onLimit?: (reason: "streams_per_second" | "streams_per_connection") => void;
}

/** How long a stream whose body has not started waits before it is handed to the handler anyway. */
const DISPATCH_ANYWAY_MS = 100;

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/** What is counted per connection. */
interface SessionCounts {
  total: number;
  windowStart: number;
  inWindow: number;
  cut: boolean;
}

/**
 * Keeps cheap HTTP/2 floods cheap. node hands every stream to the request handler (fastify, then connect)
 * the moment its HEADERS arrive, and each costs about a millisecond to set up and to tear down: 900 HEADERS
 * per short connection, reset or merely abandoned, queued tens of seconds of work that health had to wait
 * behind. Here a stream reaches the handler only once its request has started: END_STREAM on the HEADERS
 * (a GET, a Connect unary GET), or the first DATA. A stream reset or abandoned before that costs nothing
 * but node's own bookkeeping, so the work queued for it is dropped. On top, per connection:
 * - more than `maxStreamsPerSecond` new streams within a second → GOAWAY ENHANCE_YOUR_CALM, then the
 *   connection is destroyed (the HTTP/2 rapid-reset defence);
 * - `maxStreamsPerConnection` streams over its life → GOAWAY NO_ERROR: the streams in flight finish and the
 *   client reconnects, as grpc-go does transparently.
 *
 * The gate needs the request handler's own listeners of the server's 'stream' event: node's compatibility
 * layer, which turns a stream into a request and a response for the handler, is one (node adds it with the
 * first 'request' listener). The gate takes the 'stream' listeners present when it is applied, through
 * EventEmitter's public methods and by no name, and calls them when a stream is due; so it is applied
 * once, right after the server is created with its request handler, and listeners added later (the gRPC
 * fast path, connection limits) see every stream as before.
 */
export function gateHttp2Streams(server: http2.Http2Server | http2.Http2SecureServer, options: Http2StreamGateOptions): void {
  const handlers = server.listeners("stream") as StreamListener[];
  if (server.listenerCount("request") === 0 || handlers.length === 0) throw new Error("the HTTP/2 server has no request handler to gate");
  server.removeAllListeners("stream");
  const dispatch: StreamListener = (stream, headers, flags, rawHeaders) => {
    for (const handler of handlers) handler.call(server, stream, headers, flags, rawHeaders);
  };
  // Counted on the session: a stream reset in the same read as its HEADERS has already lost its session
  // when the server sees it.
  const limited = new WeakSet<http2.ServerHttp2Stream>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    const c: SessionCounts = { total: 0, windowStart: Date.now(), inWindow: 0, cut: false };
    session.prependListener("stream", (stream: http2.ServerHttp2Stream) => {
      if (overLimit(session, c)) limited.add(stream);
    });
  });

  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (limited.has(stream) || stream.destroyed || stream.closed) return;
    if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 || stream.endAfterHeaders) {
      dispatch(stream, headers, flags, rawHeaders);
      return;
    }
    // Waiting for 'readable' buffers the body without reading it: the handler reads it from the start.
    // The handler is called from within the 'readable' event, not later: an empty body sent as a separate
    // END_STREAM frame (connect-node does so for an empty message) ends the stream on the next tick, and
    // the compatibility layer's 'end' listener has to be in place by then, or the request would wait for ever.
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      clearTimeout(fallback);
      stream.removeListener("readable", open);
      stream.removeListener("close", onClose);
      if (stream.destroyed || stream.closed) return;
      dispatch(stream, headers, flags, rawHeaders);
    };
    stream.on("readable", open);
    // A client may wait for the response headers before it sends anything (a bidi stream): a stream whose
    // body has not started is dispatched after a short wait anyway.
    // A flood's streams are reset or dropped long before, so their work is still never queued.
    const fallback = setTimeout(open, DISPATCH_ANYWAY_MS);
    const onClose = () => clearTimeout(fallback);
    stream.once("close", onClose);
  });

  function overLimit(session: http2.Http2Session, c: SessionCounts): boolean {
    const now = Date.now();
    c.total++;
    if (now - c.windowStart >= 1_000) {
      c.windowStart = now;
      c.inWindow = 0;
    }
    c.inWindow++;
    if (options.maxStreamsPerSecond > 0 && c.inWindow > options.maxStreamsPerSecond) {
      if (!c.cut) {
        c.cut = true;
        options.onLimit?.("streams_per_second");
        // GOAWAY first, so that the client learns why; the socket goes once it has been written.
        session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
        setImmediate(() => session.destroy());
      }
      return true;
    }
    if (options.maxStreamsPerConnection > 0 && c.total >= options.maxStreamsPerConnection && !session.closed) {
      // This stream is still served; the client opens the next ones on a new connection.
      options.onLimit?.("streams_per_connection");
      session.close();
    }
    return false;
  }
}
