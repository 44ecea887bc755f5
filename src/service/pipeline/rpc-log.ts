import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { FastifyInstance } from "fastify";
import { AgentMetadataService } from "#idl1/flyteidl/service/agent_pb.js";
import { ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import type { Logger } from "../../log/logger.js";
import { codeOf, protocolFrom, type CallInfo } from "./call-info.js";
import { redactSecrets } from "./redact.js";

/** Error messages in log lines are cut here: a connector may put a whole upstream body in one. */
const MAX_ERROR_CHARS = 1000;

/** Flyte 2's and Flyte 1's connector listings: polled by the executor, logged at debug when they succeed. */
const METADATA_SERVICES: ReadonlySet<string> = new Set([ConnectorMetadataService.typeName, AgentMetadataService.typeName]);

/** Codes that say the service failed, not the caller: logged at warn. */
const SERVER_FAULTS: ReadonlySet<Code> = new Set([Code.Internal, Code.Unknown, Code.DataLoss]);

/**
 * One JSON log line per RPC, when it ends:
 * `{"msg":"rpc","rpcService":"…AsyncConnectorService","method":"GetTask","protocol":"grpc","http":"2.0",
 *   "taskType":"sleep","code":"ok","durationMs":1.8}`, plus `error` (already free of the call's secrets,
 * see error-mapping.ts) when it failed. Health and reflection calls, and connector listings that succeed, log
 * at debug (probes and the executor's polls would drown the rest), server faults at warn, everything else at
 * info. Nothing from the request body or
 * headers is logged.
 */
export function logCall(log: Logger, info: CallInfo, err: unknown, secrets: Readonly<Record<string, string>> | undefined): void {
  // Probes and the executor's ListConnectors poll (every 10 s on every connection) would drown the rest.
  const debug = info.service === Health.typeName || info.service.startsWith("grpc.reflection.") || (err === undefined && METADATA_SERVICES.has(info.service));
  // "service" is taken by the root logger's base field (always "flyte-connect").
  const line: Record<string, unknown> = {
    rpcService: info.service,
    method: info.method,
    protocol: info.protocol,
    http: info.httpVersion,
    taskType: info.taskType,
    code: err === undefined ? "ok" : codeToString(codeOf(err)),
    durationMs: Math.round((performance.now() - info.startedAt) * 100) / 100,
  };
  // error-mapping.ts has cleaned connector errors already; this also covers errors raised anywhere else.
  if (err !== undefined) line["error"] = redactSecrets(errorText(err), secrets);
  if (debug) log.debug(line, "rpc");
  else if (err !== undefined && SERVER_FAULTS.has(codeOf(err))) log.warn(line, "rpc");
  else log.info(line, "rpc");
}

function errorText(err: unknown): string {
  // A non-ConnectError reaches the client as "internal error"; its own text stays out of the line too,
  // since nothing has cleaned it (connector errors are mapped, and cleaned, in connector-service.ts).
  const text = err instanceof ConnectError ? err.rawMessage : "internal error";
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

/** A request that never reached the call pipeline, as its log line describes it. */
export interface UnhandledRequest {
  readonly path: string;
  readonly httpMethod: string;
  readonly protocol: string;
  readonly http: string;
  readonly httpStatus: number;
  readonly durationMs: number;
  /** The status it was refused with, where the server knows it (the gRPC fast path). */
  readonly code?: string;
  readonly error?: string;
}

/**
 * The `"http request"` line of a request the call pipeline never saw. Failures log at info, so a broken client
 * shows up; the rest at debug. The query string is never part of `path`: Connect GET requests carry the whole
 * request message there.
 */
export function logUnhandledRequest(log: Logger, request: UnhandledRequest, failed: boolean): void {
  (failed ? log.info : log.debug).call(log, { ...request, durationMs: Math.round(request.durationMs * 100) / 100 }, "http request");
}

/**
 * Logs the HTTP requests that never reached an interceptor: a body that does not parse, an unknown method
 * or content type, a request cut short, but also CORS preflights and other plugins' pages. `seen` holds the
 * raw requests the call pipeline handled. (The gRPC fast path logs its own refusals the same way.)
 */
export function logUnhandledRequests(app: FastifyInstance, log: Logger, seen: WeakSet<object>): void {
  app.addHook("onResponse", async (request, reply) => {
    if (seen.has(request.raw)) return;
    const header = request.headers["content-type"];
    const protocol = protocolFrom(typeof header === "string" ? header : null);
    // gRPC answers 200 and puts the status in trailers: a gRPC request no interceptor saw has failed.
    const failed = reply.statusCode >= 400 || protocol !== "connect";
    logUnhandledRequest(
      log,
      {
        path: request.url.split("?")[0] ?? "/",
        httpMethod: request.method,
        protocol,
        http: request.raw.httpVersion,
        httpStatus: reply.statusCode,
        durationMs: reply.elapsedTime,
      },
      failed,
    );
  });
}
