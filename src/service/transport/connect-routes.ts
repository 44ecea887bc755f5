import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ConnectRouterOptions, type ContextValues } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Compression } from "@connectrpc/connect/protocol";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as http2 from "node:http2";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../../log/logger.js";
import type { LargeRequestGate } from "../pipeline/large-request/large-request-gate.js";
import type { LargeRequestDecoding } from "../pipeline/decode-request.js";
import { framingOf, readAhead, type AdmitLarge } from "./read-ahead.js";

/** Options of {@link connectRoutes}. */
export interface ConnectRoutesOptions extends Pick<ConnectRouterOptions, "interceptors" | "writeMaxBytes" | "compressMinBytes" | "shutdownSignal"> {
  readonly routes: (router: ConnectRouter) => void;
  readonly contextValues: (request: FastifyRequest) => ContextValues;
  readonly acceptCompression: readonly Compression[];
  /** The largest request message, after decompression. */
  readonly readMaxBytes: number;
  /** Binary messages at least this large are decoded in slices, taking their turns on its share, or run on the large-request worker. */
  readonly largeRequestBytes: number;
  readonly largeDecoding?: LargeRequestDecoding;
  /**
   * The large-request gate, for binary bodies sent without `content-length` (gRPC clients on HTTP/2), which
   * its `onRequest` hook cannot count: they take a slot once the message's declared length is known.
   */
  readonly largeRequests?: LargeRequestGate;
  /** Where a handler that failed outside the RPC (a write to a closed response, say) is reported. */
  readonly log: Logger;
}

/**
 * connect's handlers as fastify routes, as connect-fastify serves them (the same public pieces: connect's
 * router, connect-node's request and response conversion, no-op body parsers so that connect reads the
 * body), with one step in front: a unary or server-streaming request with a binary body has its message read
 * and decoded here (src/service/transport/read-ahead.ts), so that a message that does not parse is
 * INVALID_ARGUMENT in the caller's protocol, as on the gRPC fast path and in JSON, and a large one is decoded
 * in slices. JSON, Connect GET and the streaming methods' requests go to connect untouched.
 */
export async function connectRoutes(app: FastifyInstance, options: ConnectRoutesOptions): Promise<void> {
  const router = createConnectRouter({
    interceptors: options.interceptors,
    acceptCompression: [...options.acceptCompression],
    readMaxBytes: options.readMaxBytes,
    writeMaxBytes: options.writeMaxBytes,
    compressMinBytes: options.compressMinBytes,
    shutdownSignal: options.shutdownSignal,
  });
  options.routes(router);
  // This plugin's own scope: the dashboard's JSON routes keep fastify's parsers.
  app.addContentTypeParser([...RPC_CONTENT_TYPES], noBody);
  for (const type of RPC_CONTENT_TYPE_PATTERNS) app.addContentTypeParser(type, noBody);
  for (const handler of router.handlers) {
    const method = handler.method;
    app.all(handler.requestPath, async (request, reply) => {
      try {
        let universal = universalRequestFromNodeRequest(request.raw, reply.raw, undefined, options.contextValues(request));
        let refused = false;
        const framing = framingOf(method, universal.method, universal.header.get("content-type"));
        if (framing !== undefined) ({ request: universal, refused } = await readAhead(universal, framing, method, options, admitLarge(request, reply.raw)));
        const response = await handler(universal);
        // Headers set on the reply (CORS) move to the raw response only in reply.send, which is not used here.
        for (const [key, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) reply.raw.setHeader(key, value);
        }
        await universalResponseToNodeResponse(response, reply.raw);
        // RST_STREAM(NO_ERROR) after the answer tells an HTTP/2 client to stop sending the body it was refused.
        const raw: IncomingMessage | http2.Http2ServerRequest = request.raw;
        if (refused && raw instanceof http2.Http2ServerRequest && !raw.stream.closed) raw.stream.close(http2.constants.NGHTTP2_NO_ERROR);
      } catch (e) {
        const line = { err: e instanceof Error ? e.message : String(e), rpc: `${method.parent.typeName}/${method.name}` };
        // A response that could not be written because the client went away is no fault of the service.
        if (ConnectError.from(e).code === Code.Aborted || clientLeft(reply.raw)) options.log.debug(line, "rpc response not written: the client left");
        else options.log.error(line, "rpc handler failed");
      }
    });
  }

  /** A body with a `content-length` was counted by the gate's hook already; one without takes its slot here. */
  function admitLarge(request: FastifyRequest, raw: FastifyReply["raw"]): AdmitLarge {
    const gate = options.largeRequests;
    if (gate === undefined || request.headers["content-length"] !== undefined) return () => true;
    return (bytes) => {
      const release = gate.tryEnter(bytes);
      if (release === undefined) return false;
      raw.once("close", release);
      return true;
    };
  }
}

/**
 * Whether the response's stream or socket is gone. The stream's state, not the error, decides: connect-node
 * tells a write to a destroyed HTTP/2 stream (ERR_HTTP2_INVALID_STREAM) from a fault by `instanceof Error`,
 * which is false for node's own errors when the service runs in another realm (a jest test using
 * flyte-connect/testing), and an `Http2ServerResponse` has no `destroyed` of its own.
 */
function clientLeft(raw: ServerResponse | http2.Http2ServerResponse): boolean {
  return raw instanceof http2.Http2ServerResponse ? raw.stream.destroyed : raw.destroyed;
}

/** Every content type an RPC protocol uses; fastify's own JSON parser must not take `application/json`. */
const RPC_CONTENT_TYPES = [
  "application/json",
  "application/proto",
  "application/connect+json",
  "application/connect+proto",
  "application/grpc",
  "application/grpc+proto",
  "application/grpc+json",
  "application/grpc-web",
  "application/grpc-web+proto",
  "application/grpc-web+json",
] as const;
/** With their variants (a charset, gRPC-Web text), as connect's protocols match them. */
const RPC_CONTENT_TYPE_PATTERNS = [
  /^application\/(connect\+)?(?:json(?:; ?charset=utf-?8)?|proto)$/i,
  /^application\/grpc(?:\+(?:json(?:; ?charset=utf-?8)?|proto))?$/i,
  /^application\/grpc-web(-text)?(?:\+(?:json(?:; ?charset=utf-?8)?|proto))?$/i,
];

/** connect reads the body itself. */
function noBody(_request: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void): void {
  done(null, undefined);
}
