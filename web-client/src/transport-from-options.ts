import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { PROTOCOLS, type Protocol } from "./protocol.js";

/** Extra request headers: fixed, or computed for every call (a token that is refreshed, for example). */
export type HeadersOption = Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);

/** Options of {@link transportFromOptions}; the same as those of `createConnectorClients`. */
export interface TransportOptions {
  /** Where the service listens, such as `https://connectors.example:8000` or `location.origin`. */
  readonly baseUrl: string;
  /** Wire protocol; `connect-json` when not given. */
  readonly protocol?: Protocol;
  /** Sent with every call, such as `{ Authorization: "Bearer …" }`. Browsers need the header allowed by CORS. */
  readonly headers?: HeadersOption;
  /** A fetch to use instead of the global one: for a proxy, a test, or Node's undici dispatcher. */
  readonly fetch?: typeof globalThis.fetch;
  /** Deadline for each call unless a call gives its own `timeoutMs`. */
  readonly defaultTimeoutMs?: number;
}

/**
 * Builds the connect-web transport the options ask for. connect-web's transports run on `fetch`, so the same
 * code works in browsers and in Node ≥ 18.
 * @internal
 */
export function transportFromOptions(options: TransportOptions): Transport {
  const protocol = options.protocol ?? "connect-json";
  if (!PROTOCOLS.includes(protocol)) throw new TypeError(`protocol must be one of ${PROTOCOLS.join(", ")}, got ${JSON.stringify(protocol)}`);
  if (typeof options.baseUrl !== "string" || options.baseUrl === "") throw new TypeError("baseUrl is required");
  // connect-web joins the base URL and "/package.Service/Method"; a trailing slash would make "//".
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const interceptors: Interceptor[] = options.headers ? [headersInterceptor(options.headers)] : [];
  const common = { baseUrl, interceptors, fetch: options.fetch, defaultTimeoutMs: options.defaultTimeoutMs };
  return protocol === "grpc-web"
    ? createGrpcWebTransport({ ...common, useBinaryFormat: true })
    : createConnectTransport({ ...common, useBinaryFormat: protocol === "connect-binary" });
}

function headersInterceptor(headers: HeadersOption): Interceptor {
  return (next) => (req) => {
    const values = typeof headers === "function" ? headers() : headers;
    for (const [name, value] of Object.entries(values)) req.header.set(name, value);
    return next(req);
  };
}
