import * as http2 from "node:http2";

/** Options of {@link gateHttp2Streams}. */
export interface Http2StreamGateOptions {
  /** Streams one connection may open over its life; then GOAWAY (NO_ERROR) and the client reconnects. 0: no limit. */
  readonly maxStreamsPerConnection: number;
  /** New streams one connection may open within a second; more: GOAWAY ENHANCE_YOUR_CALM and the connection is cut. 0: no limit. */
  readonly maxStreamsPerSecond: number;
  /**
   * Streams the client may reset before they were answered and within a second of opening them (premature
   * resets), once they are also more than half of the connection's streams; more: the connection is cut at
   * once. 0: no limit.
   */
  readonly maxPrematureResets: number;
  /** Called when a connection is cut or closed by these limits. */
  readonly onLimit?: (reason: "streams_per_second" | "streams_per_connection" | "premature_resets") => void;
}

/** A client's reset of a stream it opened less than this long ago, before it was answered, is premature. */
const PREMATURE_RESET_MS = 1_000;

/** How long a stream whose body has not started waits before it is handed to the handler anyway. */
const DISPATCH_ANYWAY_MS = 100;

/** A listener of the HTTP/2 server's 'stream' event. */
export type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/** What is counted per connection. */
interface SessionCounts {
  total: number;
  windowStart: number;
  inWindow: number;
  prematureResets: number;
  /** The connection's latest stream: by the time the next one's HEADERS are read, a reset of it has been too. */
  latest: http2.ServerHttp2Stream | undefined;
  latestAt: number;
  cut: boolean;
}

/**
 * Keeps cheap HTTP/2 floods cheap. node hands every stream to the request handler (fastify, then connect)
 * the moment its HEADERS arrive, and each costs about a millisecond to set up and to tear down: 900 HEADERS
 * per short connection, reset or merely abandoned, queued tens of seconds of work that health had to wait
 * behind. Here a stream reaches the handler only once its request has started: END_STREAM on the HEADERS
 * (a GET, a Connect unary GET), or the first DATA. A stream reset or abandoned before that costs nothing
 * but node's own bookkeeping, so the work queued for it is dropped. Streams whose request has started are
 * handed on one per turn of the event loop ({@link fairDispatch}), so that one client's burst does not hold
 * up everyone else's calls. On top, per connection:
 * - more than `maxStreamsPerSecond` new streams within a second → GOAWAY ENHANCE_YOUR_CALM, then the
 *   connection is destroyed (the HTTP/2 rapid-reset defence);
 * - `maxStreamsPerConnection` streams over its life → GOAWAY NO_ERROR: the streams in flight finish and the
 *   client reconnects, as grpc-go does transparently;
 * - more than `maxPrematureResets` streams reset by the client within a second of opening them and before
 *   they were answered (Envoy's "premature resets"), and more than half of its streams → cut. A rapid-reset
 *   burst comes on a fresh connection, in one socket read that node would otherwise turn into hundreds of
 *   streams (about 40 µs each) before anything else runs; nghttp2's own limit on resets is per connection and
 *   starts at 1000. The clients we serve cancel a call at its deadline (the executor's are 10 s) or after
 *   its answer has started (a Watch), and most of their calls are never cancelled.
 * A connection is cut by destroying its session from within the 'stream' event, which stops node from reading
 * the rest of what has arrived; the final GOAWAY says ENHANCE_YOUR_CALM, though a client still writing may see
 * only the reset of its socket.
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
  const dispatchInTurn = fairDispatch(dispatch);
  // Counted on the session: a stream reset in the same read as its HEADERS has already lost its session
  // when the server sees it.
  const limited = new WeakSet<http2.ServerHttp2Stream>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    const c: SessionCounts = { total: 0, windowStart: Date.now(), inWindow: 0, prematureResets: 0, latest: undefined, latestAt: 0, cut: false };
    session.prependListener("stream", (stream: http2.ServerHttp2Stream) => {
      if (overLimit(session, c, stream)) limited.add(stream);
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
      // A body that has ended with nothing in it ends the stream on the next tick (see above): it is handed
      // on now. Any other waits for its turn: its bytes stay buffered until the handler reads them.
      if (stream.readableLength === 0) dispatch(stream, headers, flags, rawHeaders);
      else dispatchInTurn(stream, headers, flags, rawHeaders);
    };
    stream.on("readable", open);
    // A client may wait for the response headers before it sends anything (a bidi stream): a stream whose
    // body has not started is dispatched after a short wait anyway.
    // A flood's streams are reset or dropped long before, so their work is still never queued.
    const fallback = setTimeout(open, DISPATCH_ANYWAY_MS);
    const onClose = () => clearTimeout(fallback);
    stream.once("close", onClose);
  });

  // No rstCode: still open; 0 (NO_ERROR): ended normally. The stream is checked when the next one opens, so a
  // reset of it came before `now`. (The fast path, not this gate, reads gRPC streams: what either has read
  // of a request cannot be told here, but whether it was answered can.)
  function resetPrematurely(stream: http2.ServerHttp2Stream, openedAt: number, now: number): boolean {
    return (stream.rstCode ?? 0) !== 0 && !stream.headersSent && now - openedAt < PREMATURE_RESET_MS;
  }

  function overLimit(session: http2.Http2Session, c: SessionCounts, stream: http2.ServerHttp2Stream): boolean {
    if (c.cut) return true;
    const now = Date.now();
    c.total++;
    if (now - c.windowStart >= 1_000) {
      c.windowStart = now;
      c.inWindow = 0;
    }
    c.inWindow++;
    if (c.latest !== undefined && resetPrematurely(c.latest, c.latestAt, now)) c.prematureResets++;
    c.latest = stream;
    c.latestAt = now;
    const prematureCut = options.maxPrematureResets > 0 && c.prematureResets > options.maxPrematureResets && c.prematureResets * 2 > c.total;
    if (prematureCut || (options.maxStreamsPerSecond > 0 && c.inWindow > options.maxStreamsPerSecond)) {
      c.cut = true;
      options.onLimit?.(prematureCut ? "premature_resets" : "streams_per_second");
      session.destroy(undefined, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
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

/**
 * One stream handed on per turn of the event loop; the rest of a burst waits for the next turns (in order).
 * The streams of one socket read are handed on in one go otherwise, each costing connect about a millisecond:
 * ten GetTaskLogs opened at once by one client held the loop for 10–20 ms, and every other connection's calls
 * (health, the executor's GetTask on the fast path) waited behind them. Between two turns node reads the
 * other sockets, so their calls go first; a burst takes as long as before, spread out.
 */
export function fairDispatch(dispatch: StreamListener): StreamListener {
  // A queue read from `head`: shift() moves every element, which a flood's thousands of streams would pay for each.
  let waiting: Array<Parameters<StreamListener>> = [];
  let head = 0;
  let turnTaken = false;
  const take = (): Parameters<StreamListener> | undefined => {
    if (head === waiting.length) {
      if (head > 0) waiting = [];
      head = 0;
      return undefined;
    }
    const next = waiting[head]!;
    waiting[head++] = undefined as never;
    return next;
  };
  const nextTurn = () => {
    for (let next = take(); next !== undefined; next = take()) {
      const [stream] = next;
      // Reset or cut while it waited: nothing to hand on.
      if (stream.destroyed || stream.closed) continue;
      setImmediate(nextTurn);
      dispatch(...next);
      return;
    }
    turnTaken = false;
  };
  return (...args) => {
    if (turnTaken) {
      waiting.push(args);
      return;
    }
    turnTaken = true;
    setImmediate(nextTurn);
    dispatch(...args);
  };
}
