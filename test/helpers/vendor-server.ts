import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The plumbing the local vendor servers share (BigQuery, Snowflake, Databricks): a real HTTP server on
 * loopback that records every request, and can answer the next requests with an error (429, 503, a
 * vendor's error body) or hold them without answering, as a real API under load does. The vendor's own
 * API — routes, checks, states — is the `handle` function each server passes.
 */
export interface VendorServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Answers the next `count` requests (matching `path`, if given) with `status` and `body` instead of handling them; `failNext(0)` clears. */
  failNext(count: number, status: number, body?: unknown, path?: RegExp): void;
  /** Never answers the next `count` requests (until the client gives up). */
  hangNext(count: number): void;
  close(): Promise<void>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/** What a handler answers: a status, a JSON body and extra headers. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export type Handler = (req: RecordedRequest) => Reply | Promise<Reply>;

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...(reply.body === undefined ? {} : { "content-type": "application/json" }), ...reply.headers };
  res.writeHead(reply.status, headers);
  res.end(reply.body === undefined ? undefined : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body));
}

export async function startVendorServer(handle: Handler): Promise<VendorServer> {
  const requests: RecordedRequest[] = [];
  const failures: { count: number; status: number; body: unknown; path?: RegExp }[] = [];
  let hangs = 0;
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(recorded);
      if (hangs > 0) {
        hangs--;
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      const failure = failures.find((f) => f.count > 0 && (!f.path || f.path.test(recorded.path)));
      if (failure) {
        failure.count--;
        return send(res, { status: failure.status, body: failure.body });
      }
      Promise.resolve()
        .then(() => handle(recorded))
        .then(
          (reply) => send(res, reply),
          (e: unknown) => send(res, { status: 500, body: { error: String(e) } }),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    failNext(count, status, body, path) {
      if (count === 0) failures.length = 0;
      else failures.push({ count, status, body, ...(path ? { path } : {}) });
    },
    hangNext(count) {
      hangs = count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Verifies an RS256 JWT with a public key; returns its claims, or a reason it is refused. */
export async function verifyRs256Jwt(
  token: string,
  publicKey: import("node:crypto").KeyObject,
): Promise<{ claims: Record<string, unknown> } | { refused: string }> {
  const { verify } = await import("node:crypto");
  const parts = token.split(".");
  if (parts.length !== 3) return { refused: "not a JWT" };
  const [h, p, s] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString()) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
  } catch {
    return { refused: "JWT parts are not JSON" };
  }
  if (header["alg"] !== "RS256") return { refused: `JWT alg is ${String(header["alg"])}, not RS256` };
  if (!verify("RSA-SHA256", Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, "base64url"))) return { refused: "JWT signature does not verify" };
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims["exp"] !== "number" || claims["exp"] <= now) return { refused: "JWT expired or has no exp" };
  if (typeof claims["iat"] !== "number" || claims["iat"] > now + 60) return { refused: "JWT iat missing or in the future" };
  return { claims };
}
