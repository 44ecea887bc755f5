import type { AddressInfo, Socket } from "node:net";
import fastifyCors from "@fastify/cors";
import { cors as connectCors, type ConnectRouter } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { fastify, type FastifyInstance } from "fastify";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import type { Config } from "../config/config.js";
import { Health } from "../gen/health/v1/health_pb.js";
import { silentLogger, type Logger } from "../log/logger.js";
import type { ConnectorRegistry } from "../registry/connector-registry.js";
import { createConnectorService } from "./connector-service.js";
import { dashboardPlugin } from "./dashboard-plugin.js";
import { fallbackRoutes } from "./fallback-routes.js";
import { createDrain } from "./drain.js";
import { createHealthStatus, healthRoutes, type HealthStatus } from "./health-service.js";
import { createMetadataService } from "./metadata-service.js";
import { createOnePortServer } from "./one-port.js";
import { createOperations } from "./operations.js";
import { createRecentTasks } from "./recent-tasks.js";
import { reflectionRoutes } from "./reflection-service.js";
import { createStorage } from "../storage/storage.js";

/** Options of {@link createServer} beyond the configuration. */
export interface CreateServerOptions {
  readonly log?: Logger;
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
const SERVICES = [AsyncConnectorService, ConnectorMetadataService, Health] as const;

/**
 * Builds the one-port service: gRPC (h2c, or TLS with ALPN), gRPC-Web and Connect (JSON and binary) for the
 * connector services, plus health and reflection, all through one connect-fastify handler.
 */
export async function createServer(config: Config, registry: ConnectorRegistry, options: CreateServerOptions = {}): Promise<ConnectorServer> {
  const log = options.log ?? silentLogger();
  const health = createHealthStatus(SERVICES.map((s) => s.typeName));
  const drain = createDrain();
  // Logs, metrics, auth, limits: interceptors, server options, hooks and the metrics port (operations.ts).
  const ops = createOperations({ config, registry, health, log });
  const recentTasks = config.dashboard ? createRecentTasks() : undefined;
  // Cloud SDKs load on the first URI of their scheme, not here.
  const storage = createStorage(config.storage);

  const app = (
    config.tls
      ? fastify({ http2: true, https: ops.tlsOptions(), http2SessionTimeout: config.http2IdleTimeoutMs, logger: false })
      : fastify({ serverFactory: (handler) => createOnePortServer(handler, ops.onePortOptions()), logger: false })
  ) as unknown as FastifyInstance;
  ops.attach(app);

  if (config.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: config.corsOrigins.includes("*") ? true : [...config.corsOrigins],
      methods: [...connectCors.allowedMethods],
      allowedHeaders: [...connectCors.allowedHeaders, "Authorization"],
      exposedHeaders: [...connectCors.exposedHeaders],
      maxAge: 7200,
    });
  }

  const routes = (router: ConnectRouter) => {
    router.service(
      AsyncConnectorService,
      createConnectorService({
        registry,
        log,
        maxResponseBytes: config.maxResponseBytes,
        maxResourceMetaBytes: config.maxResourceMetaBytes,
        storage,
        storageConfig: config.storage,
        recentTasks,
      }),
    );
    router.service(ConnectorMetadataService, createMetadataService(registry));
    healthRoutes(health, drain.started)(router);
    reflectionRoutes([...SERVICES])(router);
  };
  await app.register(fallbackRoutes); // before the Connect routes, whose plugin then carries its hook
  await app.register(fastifyConnectPlugin, {
    routes,
    interceptors: ops.interceptors(drain.interceptor),
    contextValues: ops.contextValues,
    readMaxBytes: config.maxMessageBytes,
    writeMaxBytes: config.maxMessageBytes,
    compressMinBytes: 1024,
    shutdownSignal: drain.signal,
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

  let closing: Promise<void> | undefined;
  return {
    app,
    health,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address() as AddressInfo;
      const scheme = config.tls ? "https" : "http";
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      const { metricsUrl } = await ops.listen();
      return { host: address.address, port: address.port, url: `${scheme}://${host}:${address.port}`, metricsUrl };
    },
    close() {
      closing ??= (async () => {
        health.setAllNotServing();
        drain.start(config.drainTimeoutMs);
        try {
          await app.close();
        } finally {
          drain.finish();
          // Last, so that the drain can be watched on the metrics port to its end.
          await ops.close();
        }
      })();
      return closing;
    },
  };
}
