import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";

/** What a raw HTTP/2 gRPC call received: response headers and trailers (pseudo-headers and `date` left out), and the body bytes. */
export interface RawGrpcAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly trailers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The HTTP/2 error code the stream was reset with, if it was. */
  readonly rstCode?: number;
}

/** A gRPC length-prefixed message: flags, 4-byte big-endian length, bytes. */
export function grpcFrame(message: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + message.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, 5);
  return frame;
}

/** A compressed gRPC frame (flag 1) of the gzip of `message`. */
export function gzipFrame(message: Uint8Array): Buffer {
  return grpcFrame(gzipSync(message), 1);
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
    const done = () => resolve({ status, headers: responseHeaders, trailers, body: Buffer.concat(chunks), ...(stream.rstCode ? { rstCode: stream.rstCode } : {}) });
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
