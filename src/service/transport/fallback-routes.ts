import type { ServerHttp2Stream } from "node:http2";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * Answers, in the caller's own protocol, the requests the RPC routes do not take, which fastify would otherwise
 * answer with its own JSON (`Route POST:/… not found`, `FST_ERR_CTP_INVALID_MEDIA_TYPE`) that no RPC client
 * reads:
 * - a path that names no method: UNIMPLEMENTED. gRPC gets a trailers-only response (HTTP 200, `grpc-status: 12`),
 *   gRPC-Web its trailers frame, Connect a JSON error with HTTP 404 (the status Connect clients read as
 *   `unimplemented`);
 * - a method path with a content type no protocol uses: HTTP 415 with a Connect error that lists the types;
 * - a method path with an HTTP method other than POST (or a Connect GET): HTTP 405 with `Allow: POST`.
 * Registered before the Connect routes, so that its hook is theirs too (fastify copies hooks into plugins
 * registered later). CORS preflights (OPTIONS) are left to the CORS plugin.
 */
export async function fallbackRoutes(app: FastifyInstance): Promise<void> {
  // A callback hook, not an async one: it runs on every call, and the calls it lets through (POST of a
  // served method with an RPC content type) should cost two checks and no promise.
  app.addHook("onRequest", (request, reply, done) => {
    const contentType = headerOf(request, "content-type");
    if (request.method === "POST" && !request.is404 && protocolOf(contentType) !== "unsupported") return done();
    if (request.method === "OPTIONS") return done();
    const path = request.url.split("?")[0] ?? "/";
    if (request.is404) return answerUnimplemented(request, reply, protocolOf(contentType), path);
    if (!isRpcPath(path)) return done();
    // A Connect GET (query `message`, usually `connect=v1`) is Connect's to answer: it takes it for methods
    // without side effects and refuses it for the others.
    const query = new URLSearchParams(request.url.split("?")[1] ?? "");
    if (request.method === "GET" && (query.has("connect") || query.has("message"))) return done();
    if (request.method !== "POST") {
      reply.header("allow", "POST");
      return sendConnectError(reply, 405, "unimplemented", `${path} takes HTTP POST, not ${request.method}: ${HOW_TO_CALL}`);
    }
    reply.header("accept-post", SUPPORTED.join(", "));
    const given = contentType === undefined ? "no Content-Type" : `Content-Type ${JSON.stringify(contentType)}`;
    return sendConnectError(reply, 415, "invalid_argument", `${path} got ${given}: send one of ${SUPPORTED.join(", ")} (${HOW_TO_CALL})`);
  });
}
// Hooks and handlers set here belong to the whole server, not to an encapsulated child (fastify-plugin's flag).
(fallbackRoutes as unknown as Record<symbol, boolean>)[Symbol.for("skip-override")] = true;

type Protocol = "grpc" | "grpc-web" | "connect" | "unsupported";

const SUPPORTED = [
  "application/json",
  "application/proto",
  "application/connect+json",
  "application/connect+proto",
  "application/grpc",
  "application/grpc-web",
];
const HOW_TO_CALL = "for curl: -X POST -H \"Content-Type: application/json\" -d '{…}'";

/** A method path: `/package.Service/Method`, as every RPC protocol here names one. */
function isRpcPath(path: string): boolean {
  return /^\/[A-Za-z_][\w.]*\/[A-Za-z_]\w*$/.test(path);
}

function protocolOf(contentType: string | undefined): Protocol {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (/^application\/grpc-web(\+(proto|json))?$/.test(type)) return "grpc-web";
  if (/^application\/grpc(\+(proto|json))?$/.test(type)) return "grpc";
  if (/^application\/(connect\+)?(json|proto)$/.test(type)) return "connect";
  return "unsupported";
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function answerUnimplemented(request: FastifyRequest, reply: FastifyReply, protocol: Protocol, path: string): void {
  const method = isRpcPath(path) ? `method ${path.slice(1)} is not served here` : `${request.method} ${path} is not a method or a page of this service`;
  const message = `${method}; the services are flyteidl2.connector.AsyncConnectorService, flyteidl2.connector.ConnectorMetadataService, grpc.health.v1.Health and server reflection`;
  if (protocol === "grpc") {
    reply.hijack();
    const headers = {
      ":status": 200,
      "content-type": headerOf(request, "content-type") ?? "application/grpc",
      "grpc-status": "12",
      "grpc-message": grpcMessage(message),
    };
    const stream = (reply.raw as unknown as { stream?: ServerHttp2Stream }).stream;
    // Trailers-only: one HEADERS frame that ends the stream, as gRPC answers a call it cannot route.
    if (stream && !stream.headersSent && !stream.destroyed) stream.respond(headers, { endStream: true });
    else {
      const { ":status": _status, ...rest } = headers;
      reply.raw.writeHead(200, rest).end();
    }
    return;
  }
  if (protocol === "grpc-web") {
    const trailer = Buffer.from(`grpc-status: 12\r\ngrpc-message: ${grpcMessage(message)}\r\n`);
    const frame = Buffer.alloc(5 + trailer.length);
    frame[0] = 0x80;
    frame.writeUInt32BE(trailer.length, 1);
    trailer.copy(frame, 5);
    reply.code(200).header("content-type", "application/grpc-web+proto").header("grpc-status", "12").header("grpc-message", grpcMessage(message)).send(frame);
    return;
  }
  sendConnectError(reply, 404, "unimplemented", message);
}

/** gRPC's percent-encoding of grpc-message: UTF-8 bytes outside printable ASCII, and "%", become %XX. */
function grpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** A Connect error body (connectrpc.com/docs/protocol, "Error end-of-stream" and unary errors). */
function sendConnectError(reply: FastifyReply, status: number, code: string, message: string): void {
  reply.code(status).header("content-type", "application/json").send(JSON.stringify({ code, message }));
}
