import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { grpcJsClient } from "./grpc-js-client.js";

/** A client of one service, whichever stack is underneath: unary calls as promises, streams as iterables. */
export type AnyClient<S extends DescService> = Client<S>;

/** One way of calling the service: a protocol over an HTTP version with a particular client stack. */
export interface ClientKind {
  readonly name: string;
  make<S extends DescService>(service: S, baseUrl: string): { client: AnyClient<S>; close(): void };
}

function connectKind(name: string, build: (baseUrl: string) => { transport: Parameters<typeof createClient>[1]; close(): void }): ClientKind {
  return {
    name,
    make(service, baseUrl) {
      const { transport, close } = build(baseUrl);
      return { client: createClient(service, transport), close };
    },
  };
}

function h2(baseUrl: string) {
  const sessionManager = new Http2SessionManager(baseUrl);
  return { sessionManager, close: () => sessionManager.abort() };
}

/**
 * The client matrix every whole-service suite runs against: grpc-js (the executor's stand-in) and
 * connect-node's three protocols on HTTP/1.1 and HTTP/2 (gRPC exists on HTTP/2 only).
 */
export const CLIENT_KINDS: readonly ClientKind[] = [
  {
    name: "grpc-js (h2c)",
    make(service, baseUrl) {
      const c = grpcJsClient(service, new URL(baseUrl).host);
      return { client: c as unknown as AnyClient<typeof service>, close: () => c.close() };
    },
  },
  connectKind("connect-node gRPC (h2c)", (baseUrl) => {
    const s = h2(baseUrl);
    return { transport: createGrpcTransport({ baseUrl, sessionManager: s.sessionManager }), close: s.close };
  }),
  connectKind("connect-node gRPC-Web (HTTP/1.1)", (baseUrl) => ({ transport: createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }), close: () => {} })),
  connectKind("connect-node gRPC-Web (h2c)", (baseUrl) => {
    const s = h2(baseUrl);
    return { transport: createGrpcWebTransport({ baseUrl, httpVersion: "2", sessionManager: s.sessionManager }), close: s.close };
  }),
  connectKind("connect-node Connect JSON (HTTP/1.1)", (baseUrl) => ({ transport: createConnectTransport({ baseUrl, httpVersion: "1.1" }), close: () => {} })),
  connectKind("connect-node Connect binary (HTTP/1.1)", (baseUrl) => ({
    transport: createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
    close: () => {},
  })),
  connectKind("connect-node Connect JSON (h2c)", (baseUrl) => {
    const s = h2(baseUrl);
    return { transport: createConnectTransport({ baseUrl, httpVersion: "2", sessionManager: s.sessionManager }), close: s.close };
  }),
  connectKind("connect-node Connect binary (h2c)", (baseUrl) => {
    const s = h2(baseUrl);
    return { transport: createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, sessionManager: s.sessionManager }), close: s.close };
  }),
];
