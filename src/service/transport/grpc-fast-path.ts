import type * as http2 from "node:http2";
import { constants as http2constants } from "node:http2";
import { create, isMessage, toBinary, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressionNegotiate, type Compression } from "@connectrpc/connect/protocol";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { connectorOperationOf, decodedCall } from "../pipeline/call-info.js";
import type { Call, CallPipeline } from "../pipeline/call-pipeline.js";
import { parseGrpcTimeoutMs } from "../pipeline/deadline.js";
import { decodeRequestMessage, type LargeRequestDecoding } from "../pipeline/decode-request.js";
import { LARGE_REQUEST_BUSY, type LargeRequestGate } from "../pipeline/large-request/large-request-gate.js";
import { lengthDelimitedFieldBytes } from "../pipeline/wire-size.js";
import type { CallSignal } from "../rpc/connector-invoker.js";
import type { UnaryService } from "../rpc/rpc-handlers.js";
import type { Logger } from "../../log/logger.js";
import { logUnhandledRequest } from "../pipeline/rpc-log.js";

/**
 * Unary gRPC served straight from node:http2, by the same service implementations and the same call
 * pipeline as connect's handlers, without connect's per-call machinery (its async-iterable pipeline and a
 * handler context with several AbortControllers per call, which cost more than all our own work together).
 * The call's AbortSignal is built only when a connector asks for it.
 *
 * Only `POST` requests with content type `application/grpc` or `application/grpc+proto` on a known unary
 * method are taken; everything else (streaming methods, gRPC-Web, Connect, gRPC with JSON, unknown paths)
 * is left to connect. The wire behaviour follows connect's gRPC handler, including its error messages and
 * status codes, so that a client sees the same answers with the fast path on or off; it differs only where
 * connect falls short of the gRPC protocol: errors are trailers-only responses, and responses say which
 * encodings the server accepts (`grpc-accept-encoding`). A message that does not parse is the client's
 * INVALID_ARGUMENT, with the error connect's binary paths use too (src/service/pipeline/decode-request.ts).
 * Large messages take a slot of the shared large-request gate before their body is read and are decoded in
 * slices (docs/operations.md).
 */

/** Options of {@link createGrpcFastPath}. */
export interface GrpcFastPathOptions {
  readonly services: readonly UnaryService[];
  readonly pipeline: CallPipeline;
  /** The largest request message, after decompression. */
  readonly readMaxBytes: number;
  readonly writeMaxBytes: number;
  /** Responses at least this large are compressed when the client accepts it. */
  readonly compressMinBytes: number;
  /** connect's compressions, in preference order (gzip, br): the same list the connect handlers accept. */
  readonly acceptCompression: readonly Compression[];
  /** The large-request gate shared with the connect path; without it, large messages are not gated. */
  readonly largeRequests?: LargeRequestGate;
  /** Messages at least this large take a gate slot before they are read and are decoded in slices. */
  readonly largeRequestBytes?: number;
  /** Where the slices of large messages take their turns. */
  readonly largeDecoding?: LargeRequestDecoding;
  /** Where requests refused before the call pipeline (framing, encoding, size, parse errors) are logged. */
  readonly log?: Logger;
}

/** Handles a new HTTP/2 stream if it is a fast-path call; false leaves it to connect. */
export type GrpcFastPath = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

type Handler = (request: unknown, signal: CallSignal) => unknown;

/** A request message and its bytes as received (after decompression). */
interface DecodedRequest {
  readonly message: unknown;
  readonly bytes: Uint8Array;
}

interface Route {
  readonly method: DescMethod;
  readonly handler: Handler;
  /** CreateTask's `inputs` field number: its size is measured off the wire. */
  readonly inputsField?: number;
}

const CONTENT_TYPE = "application/grpc+proto";
const ENVELOPE_HEADER = 5;
const COMPRESSED_FLAG = 0b0000_0001;

export function createGrpcFastPath(options: GrpcFastPathOptions): GrpcFastPath {
  const routes = new Map<string, Route>();
  for (const { service, handlers } of options.services) {
    for (const method of service.methods) {
      const handler = (handlers as Readonly<Record<string, Handler | undefined>>)[method.localName];
      if (method.methodKind === "unary" && handler !== undefined) {
        const inputsField = connectorOperationOf(method) === "create" ? method.input.field["inputs"]?.number : undefined;
        routes.set(`/${service.typeName}/${method.name}`, { method, handler, inputsField });
      }
    }
  }
  const acceptCompression = [...options.acceptCompression];
  const acceptEncoding = acceptCompression.map((c) => c.name).join(",");
  const largeRequestBytes = options.largeRequestBytes ?? Number.POSITIVE_INFINITY;
  /** Each stream's large-request slot release, called where its call settles (and on close, whichever is first). */
  const slots = new WeakMap<http2.ServerHttp2Stream, () => void>();

  // node copies the headers it is given: one frozen object per response encoding serves every call.
  const okHeaders = new Map<string | undefined, http2.OutgoingHttpHeaders>();
  const okHeadersFor = (encoding: Compression | null): http2.OutgoingHttpHeaders => {
    let headers = okHeaders.get(encoding?.name);
    if (headers === undefined) {
      headers = Object.freeze({
        ":status": 200,
        "content-type": CONTENT_TYPE,
        "grpc-accept-encoding": acceptEncoding,
        ...(encoding === null ? {} : { "grpc-encoding": encoding.name }),
      });
      okHeaders.set(encoding?.name, headers);
    }
    return headers;
  };

  return (stream, headers) => {
    if (headers[":method"] !== "POST") return false;
    const contentType = headers["content-type"];
    if (contentType !== "application/grpc" && contentType !== CONTENT_TYPE) return false;
    const route = routes.get(headers[":path"] ?? "");
    if (route === undefined) return false;
    serve(stream, headers, route);
    return true;
  };

  function serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, route: Route): void {
    // A stream reset or cut with its session reports an error; the 'close' that follows settles the call.
    stream.on("error", ignore);
    const startedAt = performance.now();
    const compression = compressionNegotiate(
      acceptCompression,
      header(headers, "grpc-encoding"),
      header(headers, "grpc-accept-encoding"),
      "grpc-accept-encoding",
    );
    const responseEncoding = compression.response;
    // connect raises these before it reads the body; so do we, in its order.
    if (compression.error) return refuseEarly(stream, headers, startedAt, compression.error, responseEncoding);
    const timeout = header(headers, "grpc-timeout");
    const deadlineMs = parseGrpcTimeoutMs(timeout ?? undefined);
    if (deadlineMs === null)
      return refuseEarly(
        stream,
        headers,
        startedAt,
        new ConnectError(`protocol error: invalid grpc timeout value: ${timeout}`, Code.InvalidArgument),
        responseEncoding,
      );

    const chunks: Buffer[] = [];
    let received = 0;
    let failed = false;
    // A large message's gate slot, held from before its body is read until the call settles or the stream closes.
    let release: (() => void) | undefined;
    const onData = (chunk: Buffer) => {
      if (failed) return;
      chunks.push(chunk);
      received += chunk.length;
      // The first envelope's declared size is checked as soon as it is known, before the rest arrives.
      if (received >= ENVELOPE_HEADER && received - chunk.length < ENVELOPE_HEADER) {
        const first = chunks.length === 1 ? chunk : Buffer.concat(chunks);
        const length = first.readUInt32BE(1);
        if (length > options.readMaxBytes) {
          failed = true;
          refuseEarly(
            stream,
            headers,
            startedAt,
            new ConnectError(`message size ${length} is larger than configured readMaxBytes ${options.readMaxBytes}`, Code.ResourceExhausted),
            responseEncoding,
          );
        } else if (options.largeRequests !== undefined && length >= largeRequestBytes) {
          release = options.largeRequests.tryEnter(length);
          if (release !== undefined) {
            stream.once("close", release);
            slots.set(stream, release);
          } else {
            failed = true;
            refuseEarly(stream, headers, startedAt, new ConnectError(LARGE_REQUEST_BUSY, Code.ResourceExhausted), responseEncoding);
            // The answer is out; RST_STREAM(NO_ERROR) tells the client to stop sending the rest of the body.
            stream.close(NO_ERROR);
          }
        }
      }
    };
    stream.on("data", onData);
    const finish = () => {
      if (failed || stream.destroyed) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      const decoded = decodeRequest(body, route.method.input, compression.request);
      if (isThenable(decoded)) {
        decoded.then(
          (request) => invoke(stream, route, request, deadlineMs, responseEncoding, headers),
          (e: unknown) => refuseEarly(stream, headers, startedAt, e, responseEncoding),
        );
      } else if (decoded instanceof ConnectError) {
        refuseEarly(stream, headers, startedAt, decoded, responseEncoding);
      } else {
        invoke(stream, route, decoded, deadlineMs, responseEncoding, headers);
      }
    };
    stream.once("end", () => {
      stream.removeListener("data", onData);
      // node ends a stream the client reset before it closes it, and an empty body is an error to answer. So
      // an empty one waits a moment (the RST_STREAM may be in the next packet): a reset stream is closed by
      // then, and a rapid-reset flood costs no error, log line or response per stream.
      if (received === 0) setTimeout(finish, EMPTY_BODY_GRACE_MS);
      else finish();
    });
  }

  /**
   * The one request message, as connect's gRPC handler reads it: envelopes one by one (decompressed, size
   * checked after decompression, parsed), then "missing", "extra" or "incomplete" as connect words them.
   */
  function decodeRequest(body: Buffer, schema: DescMessage, decompress: Compression | null): DecodedRequest | ConnectError | Promise<DecodedRequest> {
    const envelopes: { flags: number; data: Uint8Array }[] = [];
    let offset = 0;
    while (body.length - offset >= ENVELOPE_HEADER) {
      const length = body.readUInt32BE(offset + 1);
      if (length > options.readMaxBytes)
        return new ConnectError(`message size ${length} is larger than configured readMaxBytes ${options.readMaxBytes}`, Code.ResourceExhausted);
      if (body.length - offset - ENVELOPE_HEADER < length) break;
      envelopes.push({ flags: body[offset]!, data: body.subarray(offset + ENVELOPE_HEADER, offset + ENVELOPE_HEADER + length) });
      offset += ENVELOPE_HEADER + length;
      if (envelopes.length === 2) break;
    }
    const incomplete = envelopes.length < 2 && offset < body.length;
    const parse = (data: Uint8Array): DecodedRequest | ConnectError | Promise<DecodedRequest | ConnectError> => {
      if (data.byteLength > options.readMaxBytes)
        return new ConnectError(`message size ${data.byteLength} is larger than configured readMaxBytes ${options.readMaxBytes}`, Code.ResourceExhausted);
      let message: unknown;
      try {
        message = decodeRequestMessage(schema, data, largeRequestBytes, options.largeDecoding);
      } catch (e) {
        return e as ConnectError;
      }
      return message instanceof Promise
        ? message.then(
            (m: unknown) => ({ message: m, bytes: data }) satisfies DecodedRequest,
            (e: unknown) => e as ConnectError,
          )
        : ({ message, bytes: data } satisfies DecodedRequest);
    };
    const finish = (first: DecodedRequest | ConnectError): DecodedRequest | ConnectError => {
      if (first instanceof ConnectError) return first;
      if (envelopes.length > 1) return new ConnectError("protocol error: received extra input message for unary method", Code.Unimplemented);
      if (incomplete) return new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
      return first;
    };
    const settled = (result: DecodedRequest | ConnectError): DecodedRequest => {
      if (result instanceof ConnectError) throw result;
      return result;
    };
    const env = envelopes[0];
    if (env === undefined) {
      if (incomplete) return new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
      return new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented);
    }
    if ((env.flags & COMPRESSED_FLAG) === 0) {
      const parsed = parse(env.data);
      return parsed instanceof Promise ? parsed.then((p) => settled(finish(p))) : finish(parsed);
    }
    if (!decompress) return new ConnectError("received compressed envelope, but do not know how to decompress", Code.Internal);
    return Promise.resolve(decompress.decompress(env.data, options.readMaxBytes)).then(async (data) => settled(finish(await parse(data))));
  }

  function invoke(
    stream: http2.ServerHttp2Stream,
    route: Route,
    { message, bytes }: DecodedRequest,
    deadlineMs: number | undefined,
    encoding: Compression | null,
    headers: http2.IncomingHttpHeaders,
  ): void {
    const decoded = decodedCall(
      route.method,
      message,
      "grpc",
      "2.0",
      route.inputsField === undefined ? undefined : lengthDelimitedFieldBytes(bytes, route.inputsField),
    );
    const call = options.pipeline.start(decoded, { deadlineMs });
    const onClose = () => {
      if (call.settled) return;
      // RST_STREAM or the connection gone: the connector's signal aborts, the accounting settles now.
      const reason = new ConnectError("the client cancelled the call", Code.Canceled);
      call.abort(reason);
      call.end(reason);
      slots.get(stream)?.();
    };
    stream.once("close", onClose);
    let pending: Promise<unknown>;
    try {
      call.admit(header(headers, "authorization"));
      pending = call.run(() => route.handler(message, call));
    } catch (e) {
      answerError(stream, call, e, encoding, onClose);
      return;
    }
    pending.then(
      (response) => {
        try {
          answer(stream, call, route, response, encoding, onClose);
        } catch (e) {
          broken(stream, call, e);
        }
      },
      (e: unknown) => {
        try {
          answerError(stream, call, e, encoding, onClose);
        } catch (err) {
          broken(stream, call, err);
        }
      },
    );
  }

  function answer(stream: http2.ServerHttp2Stream, call: Call, route: Route, response: unknown, encoding: Compression | null, onClose: () => void): void {
    if (call.settled) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeResponse(route.method.output, response);
    } catch (e) {
      return answerError(stream, call, new ConnectError(`serialize binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal), encoding, onClose);
    }
    if (bytes.byteLength > options.writeMaxBytes) {
      return answerError(
        stream,
        call,
        new ConnectError(`message size ${bytes.byteLength} is larger than configured writeMaxBytes ${options.writeMaxBytes}`, Code.ResourceExhausted),
        encoding,
        onClose,
      );
    }
    const phase = call.info.operation === "get" ? (response as { resource?: { phase?: number } }).resource?.phase : undefined;
    stream.removeListener("close", onClose);
    call.end(undefined, phase);
    slots.get(stream)?.();
    if (encoding !== null && bytes.byteLength >= options.compressMinBytes) {
      encoding.compress(bytes).then(
        (compressed) => send(stream, envelope(COMPRESSED_FLAG, compressed), encoding),
        () => send(stream, envelope(0, bytes), encoding),
      );
    } else {
      send(stream, envelope(0, bytes), encoding);
    }
  }

  function answerError(stream: http2.ServerHttp2Stream, call: Call, e: unknown, encoding: Compression | null, onClose: () => void): void {
    if (call.settled) return;
    stream.removeListener("close", onClose);
    call.end(e);
    slots.get(stream)?.();
    refuse(stream, e, encoding);
  }

  function send(stream: http2.ServerHttp2Stream, frame: Uint8Array, encoding: Compression | null): void {
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    stream.respond(okHeadersFor(encoding), RESPOND_WITH_TRAILERS);
    stream.once("wantTrailers", sendOkTrailers);
    // Flow control is node's: a client that does not read holds this write, not the call's accounting.
    stream.end(frame);
  }

  /** Refused before the call pipeline saw it: answered, and logged as connect's path logs such requests. */
  function refuseEarly(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, startedAt: number, e: unknown, encoding: Compression | null): void {
    refuse(stream, e, encoding);
    if (options.log === undefined) return;
    const err = e instanceof ConnectError ? e : undefined;
    logUnhandledRequest(
      options.log,
      {
        path: headers[":path"] ?? "",
        httpMethod: "POST",
        protocol: "grpc",
        http: "2.0",
        httpStatus: 200,
        durationMs: performance.now() - startedAt,
        code: codeToString(err?.code ?? Code.Internal),
        error: err?.rawMessage ?? "internal error",
      },
      true,
    );
  }

  /** A trailers-only error response, with connect's grpc-status, grpc-message and grpc-status-details-bin. */
  function refuse(stream: http2.ServerHttp2Stream, e: unknown, encoding: Compression | null): void {
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    const err = e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    const status = setTrailerStatus(new Headers(), err);
    const responseHeaders: http2.OutgoingHttpHeaders = { ":status": 200, "content-type": CONTENT_TYPE, "grpc-accept-encoding": acceptEncoding };
    if (encoding !== null) responseHeaders["grpc-encoding"] = encoding.name;
    status.forEach((value, key) => {
      responseHeaders[key] = value;
    });
    stream.respond(responseHeaders, { endStream: true });
    // The request may still be arriving (an error raised before its body was read): drop the rest.
    stream.resume();
  }
}

/** How long a request that ended without a body waits before it is answered with its error (see the "end" handler). */
const EMPTY_BODY_GRACE_MS = 10;

function ignore(): void {}

/** A bug of ours while answering: the call is settled and the stream reset, so the client is not left waiting. */
function broken(stream: http2.ServerHttp2Stream, call: Call, e: unknown): void {
  call.end(e);
  if (!stream.destroyed) stream.close(http2constants.NGHTTP2_INTERNAL_ERROR);
}

const RESPOND_WITH_TRAILERS: http2.ServerStreamResponseOptions = Object.freeze({ waitForTrailers: true });
const OK_TRAILERS: http2.OutgoingHttpHeaders = Object.freeze({ "grpc-status": "0" });

function sendOkTrailers(this: http2.ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

/**
 * A frozen response is one a handler gives every caller (ListConnectors' answer for a registry state): it
 * cannot change, so it is encoded once.
 */
const frozenEncodings = new WeakMap<object, Uint8Array>();

function encodeResponse(schema: DescMessage, response: unknown): Uint8Array {
  const frozen = typeof response === "object" && response !== null && Object.isFrozen(response);
  if (frozen) {
    const cached = frozenEncodings.get(response);
    if (cached !== undefined) return cached;
  }
  const bytes = toBinary(schema, isMessage(response, schema) ? response : create(schema, response as never));
  if (frozen) frozenEncodings.set(response, bytes);
  return bytes;
}

const NO_ERROR = 0;

/** A promise from any realm (zlib's callbacks may resolve one made outside this module's). */
function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function header(headers: http2.IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(",") : value;
}

function envelope(flags: number, data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(ENVELOPE_HEADER + data.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(data.byteLength, 1);
  frame.set(data, ENVELOPE_HEADER);
  return frame;
}
