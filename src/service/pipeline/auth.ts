import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health } from "../../gen/health/v1/health_pb.js";

/** Services any caller may use without a token: probes must see the health status. */
const OPEN_SERVICES: ReadonlySet<string> = new Set([Health.typeName]);

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;

const digest = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

/** Throws UNAUTHENTICATED unless the call may go on; `authorization` is the request's header, if any. */
export type AuthCheck = (service: string, authorization: string | null | undefined) => void;

/**
 * Requires `Authorization: Bearer <token>` with one of `tokens` on every service except
 * `grpc.health.v1.Health`. The same header works in gRPC metadata, gRPC-Web and Connect, so all three
 * protocols (and the gRPC fast path) are covered by one check. Tokens are compared as SHA-256 digests in
 * constant time, against every configured token, so the time taken says nothing about how close a guess
 * was. Neither the expected nor the presented token appears in an error, a log line or a metric.
 *
 * Without tokens there is nothing to check.
 */
export function createAuthCheck(tokens: readonly string[]): AuthCheck | undefined {
  if (tokens.length === 0) return undefined;
  const expected = tokens.map(digest);
  const missing = () =>
    new ConnectError("missing bearer token: send Authorization: Bearer <token>", Code.Unauthenticated, { "www-authenticate": 'Bearer realm="flyte-connect"' });
  const invalid = () =>
    new ConnectError("invalid bearer token", Code.Unauthenticated, { "www-authenticate": 'Bearer realm="flyte-connect", error="invalid_token"' });
  return (service, header) => {
    if (OPEN_SERVICES.has(service)) return;
    if (header === null || header === undefined || header === "") throw missing();
    const match = BEARER.exec(header);
    if (!match) throw invalid();
    const presented = digest(match[1]!);
    let ok = false;
    for (const e of expected) ok = timingSafeEqual(presented, e) || ok;
    if (!ok) throw invalid();
  };
}
