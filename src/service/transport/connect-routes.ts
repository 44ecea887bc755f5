import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ConnectRouterOptions, type ContextValues } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Compression } from "@connectrpc/connect/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Logger } from "../../log/logger.js";
import { framingOf, readAhead } from "./read-ahead.js";

/** Options of {@link connectRoutes}. */
export interface ConnectRoutesOptions extends Pick<ConnectRouterOptions, "interceptors" | "writeMaxBytes" | "compressMinBytes" | "shutdownSignal"> {
  readonly routes: (router: ConnectRouter) => void;
  readonly contextValues: (request: FastifyRequest) => ContextValues;
  readonly acceptCompression: readonly Compression[];
  /** The largest request message, after decompression. */
  readonly readMaxBytes: number;
  /** Binary messages at least this large are decoded in slices. */
  readonly largeRequestBytes: number;
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
        const framing = framingOf(method, universal.method, universal.header.get("content-type"));
        if (framing !== undefined) universal = await readAhead(universal, framing, method, options);
        const response = await handler(universal);
        // Headers set on the reply (CORS) move to the raw response only in reply.send, which is not used here.
        for (const [key, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) reply.raw.setHeader(key, value);
        }
        await universalResponseToNodeResponse(response, reply.raw);
      } catch (e) {
        const line = { err: e instanceof Error ? e.message : String(e), rpc: `${method.parent.typeName}/${method.name}` };
        // A response that could not be written because the client went away is no fault of the service.
        if (ConnectError.from(e).code === Code.Aborted || reply.raw.destroyed) options.log.debug(line, "rpc response not written: the client left");
        else options.log.error(line, "rpc handler failed");
      }
    });
  }
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
