import { Code, ConnectError } from "../index.js";

/** How an error reads to a user: the gRPC code by name, then the service's message. */
export function errorText(e: unknown): string {
  if (e instanceof ConnectError) return `${Code[e.code] ?? e.code}: ${e.rawMessage}`;
  return e instanceof Error ? e.message : String(e);
}
