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
 * It replaces node's own compatibility listener (the one that turns a stream into request and response) by
 * a gated call to it, so it must be applied once, to a server created with a request handler.
 */
export function gateHttp2Streams(server: http2.Http2Server | http2.Http2SecureServer, options: Http2StreamGateOptions): void {
  const listeners = server.listeners("stream") as StreamListener[];
  const compat = listeners.find((l) => l.name === "bound onServerStream");
  if (!compat) throw new Error("the HTTP/2 server has no request handler to gate");
  server.removeListener("stream", compat);
  // Counted on the session: a stream reset in the same read as its HEADERS has already lost its session
  // when the server sees it.
  const limited = new WeakSet<http2.ServerHttp2Stream>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    const c: SessionCounts = { total: 0, windowStart: Date.now(), inWindow: 0, cut: false };
    session.prependListener("stream", (stream: http2.ServerHttp2Stream) => {
      if (overLimit(session, c)) limited.add(stream);
    });
  });

  server.prependListener("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (limited.has(stream) || stream.destroyed || stream.closed) return;
    if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 || stream.endAfterHeaders) {
      compat(stream, headers, flags, rawHeaders);
      return;
    }
    // Waiting for 'readable' buffers the body without reading it. Once the listener is gone (`once`),
    // node puts the stream back into its initial mode on the next tick, so the request handler reads it
    // from the start: hence the handler runs after that tick.
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      clearTimeout(fallback);
      stream.removeListener("readable", onReadable);
      process.nextTick(() => {
        if (stream.destroyed || stream.closed) return;
        const endedAlready = stream.readableEnded;
        compat(stream, headers, flags, rawHeaders);
        // An empty body sent as a separate END_STREAM frame (connect-node does so for an empty message)
        // ends the stream while the 'readable' wait is being undone, before node's compatibility layer
        // listens for the end: hand it the end it missed, or the request would wait for ever.
        if (endedAlready) {
          const onEnd = stream.listeners("end").find((l) => l.name === "onStreamEnd");
          if (onEnd) onEnd.call(stream);
          else stream.close(http2.constants.NGHTTP2_CANCEL);
        }
      });
    };
    const onReadable = () => open();
    stream.once("readable", onReadable);
    // A client may wait for the response headers before it sends anything (a bidi stream): a stream whose
    // body has not started is dispatched after a short wait anyway.
    // A flood's streams are reset or dropped long before, so their work is still never queued.
    const fallback = setTimeout(open, DISPATCH_ANYWAY_MS);
    stream.once("close", () => clearTimeout(fallback));
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
