import type { SecureServerOptions } from "node:http2";
import type { Config, TlsConfig } from "../../config/config.js";
import { http2ServerOptions } from "./connection-limits.js";

/** `https` options for the TLS server: ALPN h2 and http/1.1, HTTP/2 settings, handshake timeout, client certificates (mTLS). */
export function tlsServerOptions(tls: TlsConfig, config: Config): SecureServerOptions {
  return {
    allowHTTP1: true,
    key: tls.key,
    cert: tls.cert,
    handshakeTimeout: config.handshakeTimeoutMs,
    ...http2ServerOptions(config),
    // Mutual TLS: a client without a certificate from this CA never completes the handshake.
    ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  };
}
