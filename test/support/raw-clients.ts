import * as http2 from "node:http2";
import * as net from "node:net";
import { gzipSync } from "node:zlib";

/** A gRPC length-prefixed message: flag byte, 4-byte big-endian length, payload. */
export function grpcFrame(payload: Uint8Array, declaredLength = payload.length, flags = 0): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(flags, 0);
  header.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([header, payload]);
}

/** What a raw HTTP/2 exchange produced. */
export interface H2Result {
  readonly status?: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly trailers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The RST_STREAM code if the server reset the stream. */
  readonly rstCode?: number;
  /** The stream closed by itself (it did not merely outlast `waitMs`). */
  readonly closed: boolean;
  readonly ms: number;
}

/**
 * One HTTP/2 request on its own session with full control of the body: all at once, or in chunks spaced
 * `intervalMs` apart, with or without END_STREAM.
 */
export function h2Request(
  url: string,
  headers: http2.OutgoingHttpHeaders,
  body: { chunks: readonly Buffer[]; intervalMs?: number; end?: boolean },
  waitMs = 5_000,
): Promise<H2Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    const session = http2.connect(url);
    session.on("error", () => {});
    const req = session.request({ ":method": "POST", ...headers }, { endStream: false });
    const data: Buffer[] = [];
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    let timer: NodeJS.Timeout | undefined;
    let writer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      clearInterval(writer);
      const rstCode = req.rstCode !== undefined && req.rstCode !== http2.constants.NGHTTP2_NO_ERROR ? req.rstCode : undefined;
      resolve({
        status: responseHeaders[":status"] as number | undefined,
        headers: responseHeaders,
        trailers,
        body: Buffer.concat(data),
        rstCode,
        closed,
        ms: Date.now() - started,
      });
      req.close();
      session.destroy();
    };
    req.on("response", (h) => (responseHeaders = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (d: Buffer) => data.push(d));
    req.on("error", () => {});
    req.on("close", () => finish(true));
    timer = setTimeout(() => finish(false), waitMs);
    const chunks = [...body.chunks];
    const writeNext = () => {
      const chunk = chunks.shift();
      if (chunk !== undefined && !req.closed && !req.destroyed) req.write(chunk);
      if (chunks.length === 0) {
        clearInterval(writer);
        if (body.end !== false && !req.closed && !req.destroyed) req.end();
      }
    };
    if (body.intervalMs) writer = setInterval(writeNext, body.intervalMs);
    else while (chunks.length > 0) writeNext();
    if (body.chunks.length === 0 && body.end !== false) req.end();
  });
}

/** What a raw TCP exchange produced. */
export interface RawResult {
  readonly data: Buffer;
  /** The server closed the connection within `waitMs`. */
  readonly closed: boolean;
  readonly ms: number;
}

/**
 * Writes bytes to a fresh TCP connection (chunks spaced `intervalMs` apart, if given) and collects what comes
 * back until the server closes or `waitMs` passes.
 */
export function rawExchange(port: number, chunks: readonly Buffer[], options: { intervalMs?: number; waitMs?: number } = {}): Promise<RawResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const data: Buffer[] = [];
    let done = false;
    let writer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(writer);
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(data), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 5_000);
    socket.on("data", (d: Buffer) => data.push(d));
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("connect", () => {
      const queue = [...chunks];
      if (options.intervalMs) {
        writer = setInterval(() => {
          const next = queue.shift();
          if (next === undefined) clearInterval(writer);
          else if (!socket.destroyed) socket.write(next);
        }, options.intervalMs);
      } else {
        for (const c of queue) socket.write(c);
      }
    });
  });
}

/** Opens `n` TCP connections and resolves once all are connected; `closedCount` counts those the server closed. */
export async function openIdleConnections(
  port: number,
  n: number,
  firstBytes?: Buffer,
): Promise<{ sockets: net.Socket[]; closedCount(): number; destroy(): void }> {
  let closed = 0;
  const sockets: net.Socket[] = [];
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from(
        { length: Math.min(batch, n - i) },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(port, "127.0.0.1");
            s.on("error", () => {});
            // Read (and drop) whatever comes, so that the server closing the connection is noticed.
            s.resume();
            s.once("close", () => closed++);
            s.once("connect", () => {
              if (firstBytes) s.write(firstBytes);
              resolve();
            });
            // A connection refused outright resolves too: it counts as closed.
            s.once("close", () => resolve());
            sockets.push(s);
          }),
      ),
    );
  }
  return {
    sockets,
    closedCount: () => closed,
    destroy: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

/** The HTTP/2 connection preface and an empty SETTINGS frame: what an h2c client sends first. */
export const H2_PREFACE_AND_SETTINGS = Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/** Waits until `condition` holds, polling; false if `ms` passed first. */
export async function eventually(condition: () => boolean, ms: number, everyMs = 50): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return condition();
}

/** What a raw HTTP/2 gRPC call received: response headers and trailers (pseudo-headers and `date` left out), and the body bytes. */
export interface RawGrpcAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly trailers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The HTTP/2 error code the stream was reset with, if it was. */
  readonly rstCode?: number;
}

/** A compressed gRPC frame (flag 1) of the gzip of `message`. */
export function gzipFrame(message: Uint8Array): Buffer {
  const compressed = gzipSync(message);
  return grpcFrame(compressed, compressed.length, 1);
}

/**
 * One gRPC call over a raw node:http2 session: whatever headers and body bytes the test wants, nothing a
 * gRPC library would fix or refuse. `resetAfterMs` resets the stream (RST_STREAM CANCEL) after that long.
 */
export function rawGrpcCall(
  session: http2.ClientHttp2Session,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
  options: { resetAfterMs?: number } = {},
): Promise<RawGrpcAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let status = 0;
    let responseHeaders: Record<string, string> = {};
    let trailers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    const clean = (h: http2.IncomingHttpHeaders) => {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(":") && k !== "date" && v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : String(v);
      return out;
    };
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      responseHeaders = clean(h);
    });
    stream.on("trailers", (h) => {
      trailers = clean(h);
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => {});
    const done = () =>
      resolve({ status, headers: responseHeaders, trailers, body: Buffer.concat(chunks), ...(stream.rstCode ? { rstCode: stream.rstCode } : {}) });
    stream.on("close", done);
    // The answer is complete once the server ends its side, even if the request could not be sent whole
    // (an oversize body the server refused): then the client resets the stream, as gRPC clients do.
    stream.on("end", () => {
      done();
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.on("aborted", () => {});
    if (options.resetAfterMs !== undefined) setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), options.resetAfterMs);
    try {
      stream.end(body);
    } catch (e) {
      reject(e);
    }
  });
}

/**
 * The gRPC status of an answer wherever it was sent: in the trailers, or in the headers of a trailers-only
 * response (both are valid gRPC; grpc-go and grpc-js servers send errors trailers-only).
 */
export function grpcStatusOfAnswer(answer: RawGrpcAnswer): Record<string, string> {
  const merged = { ...answer.headers, ...answer.trailers };
  return merged;
}
