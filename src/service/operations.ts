import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { SecureServerOptions } from "node:http2";
import type { Interceptor } from "@connectrpc/connect";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config/config.js";
import type { Logger } from "../log/logger.js";
import type { ConnectorRegistry } from "../registry/connector-registry.js";
import { createAuthInterceptor } from "./auth.js";
import { callInfoInterceptor, contextValuesFor } from "./call-info.js";
import { http2ServerOptions, limitHttp1, limitHttp2Streams } from "./connection-limits.js";
import { createConnectorLimiter } from "./connector-limits.js";
import { gateHttp2Streams } from "./http2-stream-gate.js";
import { createLargeRequestGate, gateLargeRequests } from "./large-request/large-request-gate.js";
import type { HealthStatus } from "./health-service.js";
import { createLoadShedder } from "./load-shedder.js";
import { watchReadiness } from "./readiness.js";
import { createMetricsServer, type MetricsServer } from "./metrics-server.js";
import { metricsInterceptor } from "./metrics-interceptor.js";
import { createServiceMetrics, type ServiceMetrics } from "./metrics.js";
import type { OnePortServerOptions } from "./one-port.js";
import { logUnhandledRequests, rpcLogInterceptor } from "./rpc-log.js";

/** Options of {@link createOperations}. */
export interface OperationsOptions {
  readonly config: Config;
  readonly registry: ConnectorRegistry;
  readonly health: HealthStatus;
  readonly log: Logger;
}

/**
 * What makes the service deployable and watchable, around the RPC services themselves: per-RPC logs,
 * metrics and the metrics port, bearer auth, load shedding, per-connector limits, and the connection-level
 * limits and timeouts of the HTTP servers. `createServer` asks it for the interceptors, the server options
 * and the hooks, and starts and stops the metrics port with the service.
 */
export interface Operations {
  readonly metrics: ServiceMetrics;
  /**
   * Every interceptor in order, outermost first, with the server's drain interceptor in its place: calls
   * refused by auth, drain or limits are still logged and counted; auth comes before anything that
   * reveals the server's state; limits are innermost, nearest the connector.
   */
  interceptors(drain: Interceptor): Interceptor[];
  /** connect-fastify's `contextValues`: remembers the raw request for the call info. */
  contextValues(request: { raw: http.IncomingMessage | http2.Http2ServerRequest }): ReturnType<typeof contextValuesFor>;
  /** Options for the cleartext one-port server. */
  onePortOptions(): OnePortServerOptions;
  /** `https` options for the TLS server: HTTP/2 settings, handshake timeout, client certificates (mTLS). */
  tlsOptions(): SecureServerOptions;
  /** Applies connection limits to the server fastify created, and adds the log hook; before `listen`. */
  attach(app: FastifyInstance): void;
  /** Starts the metrics port, if enabled. */
  listen(): Promise<{ readonly metricsUrl?: string }>;
  /** Stops the metrics port and the heap sampling. */
  close(): Promise<void>;
}

export function createOperations(options: OperationsOptions): Operations {
  const { config, registry, health, log } = options;
  const known = new Set<string>();
  const metrics = createServiceMetrics({
    isKnownTaskType: (name) => {
      if (known.has(name)) return true;
      // Connectors are only ever added, so a positive answer can be kept.
      const found = registry.connectors().some((c) => c.taskTypeName === name);
      if (found) known.add(name);
      return found;
    },
    processMetrics: config.metricsEnabled,
  });
  const shedder = createLoadShedder({
    maxConcurrentCalls: config.maxConcurrentCalls,
    maxHeapUsedBytes: config.maxHeapUsedBytes,
    onShed: metrics.shed,
  });
  // NOT_SERVING while connector calls cannot be taken; ConnectorMetadataService and Health keep answering.
  const stopReadiness = watchReadiness({
    health,
    services: ["", AsyncConnectorService.typeName],
    inFlight: () => shedder.inFlight,
    maxInFlight: config.maxConcurrentCalls,
    maxEventLoopDelayMs: config.readinessMaxEventLoopDelayMs,
  });
  const limiter = createConnectorLimiter({
    maxConcurrency: config.connectorMaxConcurrency,
    timeoutMs: config.connectorTimeoutMs,
    limits: config.connectorLimits,
    onShed: metrics.shed,
  });
  const largeRequests = createLargeRequestGate({
    thresholdBytes: config.largeRequestBytes,
    maxConcurrent: config.maxConcurrentLargeRequests,
    onRefused: () => metrics.shed("large_requests"),
  });
  const auth = createAuthInterceptor(config.authTokens);
  const seen = new WeakSet<object>();
  let metricsServer: MetricsServer | undefined;

  return {
    metrics,
    interceptors(drain) {
      return [
        callInfoInterceptor(seen),
        rpcLogInterceptor(log),
        metricsInterceptor(metrics),
        ...(auth ? [auth] : []),
        drain,
        shedder.interceptor,
        limiter.interceptor,
      ];
    },
    contextValues: (request) => contextValuesFor(request.raw),
    onePortOptions: () => ({
      sniffTimeoutMs: config.handshakeTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      http2SessionIdleTimeoutMs: config.http2IdleTimeoutMs,
      http2: http2ServerOptions(config),
    }),
    tlsOptions() {
      const tls = config.tls!;
      return {
        allowHTTP1: true,
        key: tls.key,
        cert: tls.cert,
        handshakeTimeout: config.handshakeTimeoutMs,
        ...http2ServerOptions(config),
        // Mutual TLS: a client without a certificate from this CA never completes the handshake.
        ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
      };
    },
    attach(app) {
      const server = app.server as unknown as http.Server & { http2Server?: http2.Http2Server };
      const gate = { maxStreamsPerConnection: config.http2MaxStreamsPerConnection, maxStreamsPerSecond: config.http2MaxStreamsPerSecond, onLimit: metrics.shed };
      if (config.tls) {
        if (config.maxConnections > 0) server.maxConnections = config.maxConnections;
        limitHttp2Streams(app.server as unknown as http2.Http2SecureServer, config);
        gateHttp2Streams(app.server as unknown as http2.Http2SecureServer, gate);
      } else {
        limitHttp1(server, config);
        if (server.http2Server) limitHttp2Streams(server.http2Server, config);
        if (server.http2Server) gateHttp2Streams(server.http2Server, gate);
      }
      logUnhandledRequests(app, log, seen);
      gateLargeRequests(app, largeRequests);
    },
    async listen() {
      if (!config.metricsEnabled) return {};
      metricsServer = createMetricsServer({ registry: metrics.registry, health, host: config.metricsHost, port: config.metricsPort, log });
      const { url } = await metricsServer.listen();
      return { metricsUrl: url };
    },
    async close() {
      stopReadiness();
      shedder.stop();
      await metricsServer?.close();
    },
  };
}
