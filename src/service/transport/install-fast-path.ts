import type * as http2 from "node:http2";
import type { GrpcFastPath } from "./grpc-fast-path.js";

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/**
 * Puts the gRPC fast path in front of node's HTTP/2 compatibility layer (which turns every stream into a
 * request for fastify): a stream the fast path takes never becomes a request; any other goes on to the
 * compatibility listener as before. Listeners added later (connection limits) still see every stream.
 */
export function installFastPath(server: http2.Http2Server | http2.Http2SecureServer, fastPath: GrpcFastPath): void {
  const compat = server.listeners("stream") as StreamListener[];
  server.removeAllListeners("stream");
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (fastPath(stream, headers)) return;
    for (const listener of compat) listener.call(server, stream, headers, flags, rawHeaders);
  });
}
