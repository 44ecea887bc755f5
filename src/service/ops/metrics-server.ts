import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../log/logger.js";
import type { MetricsRegistry } from "../pipeline/metrics.js";
import { ServingStatus, type HealthStatus } from "../rpc/health-service.js";

/** Options of {@link createMetricsServer}. */
export interface MetricsServerOptions {
  readonly registry: MetricsRegistry;
  readonly health: HealthStatus;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: Logger;
}

/** The plain-HTTP operations port: metrics for Prometheus, health for probes that cannot speak gRPC. */
export interface MetricsServer {
  listen(): Promise<{ readonly port: number; readonly url: string }>;
  close(): Promise<void>;
}

/**
 * A small node:http server on its own port (9090 by default, as Python's `--prometheus_port`):
 * - `GET /metrics` (and `/`, as Python's `start_http_server` answers any path): the Prometheus text format;
 * - `GET /healthz`: 200 while the process runs, for liveness;
 * - `GET /readyz`: 200 while the service is SERVING, 503 once it drains. For readiness probes where the gRPC
 *   probe cannot be used: the service on TLS or mTLS (kubelet's gRPC probe speaks neither).
 * It is cleartext and unauthenticated, like every Prometheus target: keep it off the public Service.
 * It is closed after the RPC port, so a drain can be watched to the end.
 */
export function createMetricsServer(options: MetricsServerOptions): MetricsServer {
  const { registry, health } = options;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (path === "/readyz") {
      const serving = health.get("") === ServingStatus.SERVING;
      res.writeHead(serving ? 200 : 503, { "content-type": "text/plain" }).end(serving ? "SERVING\n" : "NOT_SERVING\n");
      return;
    }
    if (path !== "/metrics" && path !== "/") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (e: unknown) => {
        options.log.error({ err: e instanceof Error ? e.message : String(e) }, "cannot collect metrics");
        res.writeHead(500, { "content-type": "text/plain" }).end("cannot collect metrics\n");
      },
    );
  });
  // Scrapers keep connections open; nothing here is worth waiting for at shutdown.
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.maxConnections = 64;

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port, options.host, () => {
          server.off("error", reject);
          const a = server.address() as AddressInfo;
          const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
          resolve({ port: a.port, url: `http://${host}:${a.port}/metrics` });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
