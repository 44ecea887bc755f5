import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import fastifyCors from "@fastify/cors";
import { cors as connectCors, type ConnectRouter } from "@connectrpc/connect";
import { fastify, type FastifyInstance } from "fastify";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import type { Config } from "../config/config.js";
import { Health } from "../gen/health/v1/health_pb.js";
import { levelOf, silentLogger, type Logger } from "../log/logger.js";
import type { ConnectorRegistry } from "../registry/connector-registry.js";
import type { ConnectorSource } from "../registry/load-modules.js";
import { LargeCallWorker } from "./large-calls/large-call-worker.js";
import { dashboardPlugin } from "./ops/dashboard-plugin.js";
import { createMetricsServer, type MetricsServer } from "./ops/metrics-server.js";
import { watchReadiness } from "./ops/readiness.js";
import { createRecentTasks } from "./ops/recent-tasks.js";
import { createAuthCheck } from "./pipeline/auth.js";
import { createCallPipeline } from "./pipeline/call-pipeline.js";
import { ACCEPTED_COMPRESSIONS } from "./pipeline/compression.js";
import { connectPipelineInterceptor, contextValuesFor } from "./pipeline/connect-interceptor.js";
import { createConnectorLimiter } from "./pipeline/connector-limits.js";
import { clampDeadlineHeaders } from "./pipeline/deadline.js";
import { createDrain } from "./pipeline/drain.js";
import { createLargeRequestGate, gateLargeRequests } from "./pipeline/large-request/large-request-gate.js";
import { LargeWorkShare } from "./pipeline/large-request/large-work-share.js";
import { createLoadShedder } from "./pipeline/load-shedder.js";
import { createServiceMetrics } from "./pipeline/metrics.js";
import { logUnhandledRequests } from "./pipeline/rpc-log.js";
import { configuredConnectorService } from "./rpc/configured-connector-service.js";
import { createHealthService, createHealthStatus, type HealthStatus } from "./rpc/health-service.js";
import { createFlyte1Services, FLYTE1_SERVICES } from "./rpc/flyte1/flyte1-services.js";
import { createMetadataService } from "./rpc/metadata-service.js";
import { reflectionRoutes } from "./rpc/reflection-service.js";
import { http2ServerOptions, limitHttp1, limitHttp2Streams } from "./transport/connection-limits.js";
import { connectRoutes } from "./transport/connect-routes.js";
import { fallbackRoutes } from "./transport/fallback-routes.js";
import { createGrpcFastPath } from "./transport/grpc-fast-path.js";
import { gateHttp2Streams } from "./transport/http2-stream-gate.js";
import { installFastPath } from "./transport/install-fast-path.js";
import { createOnePortServer, type OnePortServer } from "./transport/one-port.js";
import { tlsServerOptions } from "./transport/tls-options.js";

/** Options of {@link createServer} beyond the configuration. */
export interface CreateServerOptions {
  readonly log?: Logger;
  /**
   * Where the registry's connectors came from. Given, connector calls with a large request run on a worker
   * thread that loads the same connectors (config `largeRequestWorker`); without it, a registry built in code
   * cannot be rebuilt there, and large requests are decoded and converted on the event loop, in slices.
   */
  readonly connectors?: ConnectorSource;
}

/** A connector service, built but not yet listening. */
export interface ConnectorServer {
  /** The fastify instance, for registering more plugins before `listen`. */
  readonly app: FastifyInstance;
  readonly health: HealthStatus;
  /**
   * Starts listening on the configured host and port, and the metrics port unless disabled; resolves with
   * the addresses actually bound.
   */
  listen(): Promise<{ readonly host: string; readonly port: number; readonly url: string; readonly metricsUrl?: string }>;
  /**
   * Drains and stops: health turns NOT_SERVING, new calls get UNAVAILABLE, calls in flight finish (or are
   * cancelled after `drainTimeoutMs`), connections close. Safe to call twice.
   */
  close(): Promise<void>;
}

/** The services the health and reflection endpoints describe. */
const SERVICES = [AsyncConnectorService, ConnectorMetadataService, ...FLYTE1_SERVICES, Health] as const;

/** Responses smaller than this are sent uncompressed. */
const COMPRESS_MIN_BYTES = 1024;
/**
 * Longest stretch of a large request's decoding or conversion between two pauses: a small call that arrives
 * meanwhile waits at most this long (docs/operations.md, "Large requests").
 */
const LARGE_WORK_SLICE_MS = 2;

/**
 * Builds the one-port service: gRPC (h2c, or TLS with ALPN), gRPC-Web and Connect (JSON and binary) for the
 * connector services, plus health and reflection. Unary gRPC calls take the fast path (node:http2 directly)
 * unless it is turned off; everything else goes through connect's handlers, served as fastify routes. Both
 * run the same call pipeline and the same service implementations.
 */
export async function createServer(config: Config, registry: ConnectorRegistry, options: CreateServerOptions = {}): Promise<ConnectorServer> {
  const log = options.log ?? silentLogger();

  // What the service knows about itself: health, drain state, metrics.
  const health = createHealthStatus(SERVICES.map((s) => s.typeName));
  const drain = createDrain();
  const metrics = createServiceMetrics({ isKnownTaskType: knownTaskTypes(registry), processMetrics: config.metricsEnabled });

  // The call pipeline: every RPC of either transport goes through it.
  const shedder = createLoadShedder({ maxConcurrentCalls: config.maxConcurrentCalls, maxHeapUsedBytes: config.maxHeapUsedBytes, onShed: metrics.shed });
  const limiter = createConnectorLimiter({
    maxConcurrency: config.connectorMaxConcurrency,
    timeoutMs: config.connectorTimeoutMs,
    limits: config.connectorLimits,
    onShed: metrics.shed,
  });
  const pipeline = createCallPipeline({ metrics, log, auth: createAuthCheck(config.authTokens), drain, shedder, limiter });
  // Bodies of largeRequestBytes or more are admitted a few at a time, before they are read.
  const largeRequests = createLargeRequestGate({
    thresholdBytes: config.largeRequestBytes,
    maxConcurrent: config.maxConcurrentLargeRequests,
    onRefused: () => metrics.shed("large_requests"),
  });
  // Their decoding and conversion share the event loop with everything else, slice by slice.
  const largeWork = new LargeWorkShare({ share: config.largeRequestCpuPercent / 100, sliceMs: LARGE_WORK_SLICE_MS });
  // NOT_SERVING while connector calls cannot be taken; ConnectorMetadataService and Health keep answering.
  const stopReadiness = watchReadiness({
    health,
    services: ["", AsyncConnectorService.typeName],
    inFlight: () => shedder.inFlight,
    maxInFlight: config.maxConcurrentCalls,
    maxEventLoopDelayMs: config.readinessMaxEventLoopDelayMs,
  });
  // Large connector calls run on a worker thread with connectors of its own, when they can be loaded again.
  const largeCalls =
    config.largeRequestWorker && options.connectors !== undefined
      ? new LargeCallWorker({ init: { config, logLevel: levelOf(log), connectors: options.connectors }, log, onDeleteIgnored: metrics.deleteIgnored })
      : undefined;

  // The RPC services, one implementation each for both transports.
  const recentTasks = config.dashboard ? createRecentTasks() : undefined;
  const connectorService = configuredConnectorService(config, registry, log, { recentTasks, onDeleteIgnored: metrics.deleteIgnored, largeWork, largeCalls });
  const largeDecoding = { share: largeWork, worker: largeCalls };
  const metadataService = createMetadataService(registry);
  const healthService = createHealthService(health, drain.started, {
    maxWatchStreams: config.maxWatchStreams,
    onWatchRefused: () => metrics.shed("watch_streams"),
  });
  // Flyte 1's agent services: the same connectors through the Flyte 2 service's handlers.
  const flyte1 = createFlyte1Services(connectorService, registry);

  // The transport: one port, cleartext (h2c and HTTP/1.1) or TLS (ALPN), with connection limits.
  const app = (config.tls
    ? fastify({ http2: true, https: tlsServerOptions(config.tls, config), http2SessionTimeout: config.http2IdleTimeoutMs, logger: false })
    : fastify({ serverFactory: (handler) => onePortServer(handler, config), logger: false })) as unknown as FastifyInstance;
  const http2Server = config.tls ? (app.server as unknown as http2.Http2SecureServer) : (app.server as unknown as OnePortServer).http2Server;
  // Streams reach fastify only once their request starts, with per-connection stream limits (floods).
  gateHttp2Streams(http2Server, {
    maxStreamsPerConnection: config.http2MaxStreamsPerConnection,
    maxStreamsPerSecond: config.http2MaxStreamsPerSecond,
    maxPrematureResets: config.http2MaxPrematureResets,
    onLimit: metrics.shed,
  });
  if (config.grpcFastPath) {
    installFastPath(
      http2Server,
      createGrpcFastPath({
        services: [connectorService, metadataService, ...flyte1.unary, healthService],
        pipeline,
        readMaxBytes: config.maxMessageBytes,
        writeMaxBytes: config.maxMessageBytes,
        compressMinBytes: COMPRESS_MIN_BYTES,
        acceptCompression: ACCEPTED_COMPRESSIONS,
        largeRequests,
        largeRequestBytes: config.largeRequestBytes,
        largeDecoding,
        log,
      }),
    );
  }
  if (config.tls) {
    if (config.maxConnections > 0) (app.server as unknown as http.Server).maxConnections = config.maxConnections;
  } else {
    limitHttp1(app.server as unknown as http.Server, config);
  }
  limitHttp2Streams(http2Server, config);

  // connect serves the rest (src/service/transport/connect-routes.ts), through the same pipeline (its only interceptor).
  const seen = new WeakSet<object>();
  logUnhandledRequests(app, log, seen);
  gateLargeRequests(app, largeRequests);
  // connect starts its deadline timer from these headers: clamp them first (a timer holds < 2^31 ms).
  app.addHook("onRequest", (request, _reply, done) => {
    clampDeadlineHeaders(request.raw.headers);
    done();
  });
  if (config.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: config.corsOrigins.includes("*") ? true : [...config.corsOrigins],
      methods: [...connectCors.allowedMethods],
      allowedHeaders: [...connectCors.allowedHeaders, "Authorization"],
      exposedHeaders: [...connectCors.exposedHeaders],
      maxAge: 7200,
    });
  }
  await app.register(fallbackRoutes); // before the Connect routes, whose plugin then carries its hook
  await app.register(connectRoutes, {
    routes: (router: ConnectRouter) => {
      router.service(AsyncConnectorService, connectorService.connect);
      router.service(ConnectorMetadataService, metadataService.connect);
      router.service(Health, healthService.connect);
      flyte1.routes(router);
      reflectionRoutes([...SERVICES])(router);
    },
    interceptors: [connectPipelineInterceptor(pipeline, seen)],
    contextValues: (request) => contextValuesFor(request.raw),
    acceptCompression: ACCEPTED_COMPRESSIONS,
    readMaxBytes: config.maxMessageBytes,
    writeMaxBytes: config.maxMessageBytes,
    compressMinBytes: COMPRESS_MIN_BYTES,
    largeRequestBytes: config.largeRequestBytes,
    largeDecoding,
    largeRequests,
    shutdownSignal: drain.signal,
    log,
  });
  // The page, its assets and a JSON route; its paths never start with "/flyteidl2." or "/grpc.".
  if (recentTasks) await app.register(dashboardPlugin, { recentTasks, authTokens: config.authTokens, log });

  // Sockets are tracked so that, once the grace period is over, whatever still hangs is cut: a client that
  // stopped reading mid-upload would otherwise hold server.close() open forever.
  const sockets = new Set<Socket>();
  app.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  drain.signal.addEventListener("abort", () => {
    for (const socket of sockets) socket.destroy();
  });

  let metricsServer: MetricsServer | undefined;
  let closing: Promise<void> | undefined;
  return {
    app,
    health,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address() as AddressInfo;
      const scheme = config.tls ? "https" : "http";
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      if (config.metricsEnabled) {
        metricsServer = createMetricsServer({ registry: metrics.registry, health, host: config.metricsHost, port: config.metricsPort, log });
        const { url: metricsUrl } = await metricsServer.listen();
        return { host: address.address, port: address.port, url: `${scheme}://${host}:${address.port}`, metricsUrl };
      }
      return { host: address.address, port: address.port, url: `${scheme}://${host}:${address.port}` };
    },
    close() {
      closing ??= (async () => {
        health.setAllNotServing();
        drain.start(config.drainTimeoutMs);
        try {
          await app.close();
        } finally {
          drain.finish();
          await largeCalls?.close();
          stopReadiness();
          shedder.stop();
          // Last, so that the drain can be watched on the metrics port to its end.
          await metricsServer?.close();
        }
      })();
      return closing;
    },
  };
}

/** The cleartext one-port server with the configured timeouts and HTTP/2 settings. */
function onePortServer(handler: http.RequestListener, config: Config): OnePortServer {
  return createOnePortServer(handler, {
    sniffTimeoutMs: config.handshakeTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    http2SessionIdleTimeoutMs: config.http2IdleTimeoutMs,
    http2: http2ServerOptions(config),
  });
}

/** Whether a task type is registered, for metric labels; connectors are only ever added, so a yes is kept. */
function knownTaskTypes(registry: ConnectorRegistry): (name: string) => boolean {
  const known = new Set<string>();
  return (name) => {
    if (known.has(name)) return true;
    const found = registry.connectors().some((c) => c.taskTypeName === name);
    if (found) known.add(name);
    return found;
  };
}
