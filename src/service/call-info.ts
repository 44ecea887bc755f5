import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { Code, ConnectError, createContextKey, createContextValues, type ContextValues, type Interceptor, type StreamRequest } from "@connectrpc/connect";
import { AsyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";

/** The wire protocol of a call, as its content type says. */
export type Protocol = "grpc" | "grpc-web" | "connect";

/** The connector operations; Python's metrics label the first three (python-reference.md §2.1). */
export type ConnectorOperation = "create" | "get" | "delete" | "get_metrics" | "get_logs";

/** What the logging, metrics and limits interceptors know about a call; never any request content. */
export interface CallInfo {
  /** `flyteidl2.connector.AsyncConnectorService` */
  readonly service: string;
  /** `GetTask` */
  readonly method: string;
  /** `unary`, `server_streaming`… */
  readonly methodKind: string;
  readonly protocol: Protocol;
  /** `1.1` or `2.0`; empty when the call did not come over node's HTTP server. */
  readonly httpVersion: string;
  /** Set for AsyncConnectorService calls and their Flyte 1 twins (AsyncAgentService). */
  readonly operation?: ConnectorOperation;
  /** The task type a connector call is routed by, once the request is parsed. */
  readonly taskType?: string;
  /** `performance.now()` when the call reached the first interceptor. */
  readonly startedAt: number;
}

/** The call's {@link CallInfo}; set by {@link callInfoInterceptor}, the outermost interceptor. */
export const kCallInfo = createContextKey<CallInfo | undefined>(undefined, { description: "flyte-connect call info" });

/**
 * The call's `connection.secrets`, kept apart from {@link CallInfo} so that nothing logs them by accident:
 * whatever the interceptors write about a failed call is cleaned of these values.
 */
export const kCallSecrets = createContextKey<Readonly<Record<string, string>> | undefined>(undefined, { description: "call secrets" });

/** The raw node request behind a call, for the HTTP version and for requests no interceptor saw. */
export const kRawRequest = createContextKey<IncomingMessage | Http2ServerRequest | undefined>(undefined, { description: "raw request" });

/** Context values for a connect-fastify request: the raw request is remembered. */
export function contextValuesFor(raw: IncomingMessage | Http2ServerRequest): ContextValues {
  return createContextValues().set(kRawRequest, raw);
}

const OPERATIONS: Readonly<Record<string, ConnectorOperation>> = {
  CreateTask: "create",
  GetTask: "get",
  DeleteTask: "delete",
  GetTaskMetrics: "get_metrics",
  GetTaskLogs: "get_logs",
};

/** The services whose calls run a connector operation, by the same method names. */
const CONNECTOR_SERVICES: ReadonlySet<string> = new Set([AsyncConnectorService.typeName, AsyncAgentService.typeName]);

/** grpc: `application/grpc[+proto|+json]`; grpc-web: `application/grpc-web[-text][+…]`; anything else is Connect. */
export function protocolFrom(contentType: string | null): Protocol {
  if (contentType === null) return "connect";
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/** The task type of a connector request: `template.type` for CreateTask, `task_category.name` otherwise. */
export function taskTypeFrom(message: unknown): string | undefined {
  const m = message as { template?: { type?: unknown }; taskCategory?: { name?: unknown } } | undefined;
  const type = m?.template?.type ?? m?.taskCategory?.name;
  return typeof type === "string" ? type : undefined;
}

/**
 * The outermost interceptor: records what the call is (service, method, protocol, task type) in its context
 * values for the interceptors inside, and marks the raw request as seen. A server-streaming connector
 * request (GetTaskLogs) is read here, as the handler would read it, to learn its task type.
 */
export function callInfoInterceptor(seen: WeakSet<object>): Interceptor {
  return (next) => async (req) => {
    const raw = req.contextValues.get(kRawRequest);
    if (raw) seen.add(raw);
    const operation = CONNECTOR_SERVICES.has(req.service.typeName) ? OPERATIONS[req.method.name] : undefined;
    let call = req;
    let message: unknown = req.stream ? undefined : req.message;
    if (req.stream && operation !== undefined && req.method.methodKind === "server_streaming") {
      message = await single(req);
      call = { ...req, message: createAsyncIterable([message]) } as StreamRequest;
    }
    const secrets = (message as { connection?: { secrets?: Record<string, string> } } | undefined)?.connection?.secrets;
    if (secrets !== undefined && Object.keys(secrets).length > 0) req.contextValues.set(kCallSecrets, secrets);
    req.contextValues.set(kCallInfo, {
      service: req.service.typeName,
      method: req.method.name,
      methodKind: req.method.methodKind,
      protocol: protocolFrom(req.header.get("content-type")),
      httpVersion: raw?.httpVersion ?? "",
      operation,
      taskType: operation !== undefined ? taskTypeFrom(message) : undefined,
      startedAt: performance.now(),
    });
    return next(call);
  };
}

/** The one request message of a server-streaming call, with connect's own protocol errors. */
async function single(req: StreamRequest): Promise<unknown> {
  const it = req.message[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) throw new ConnectError("protocol error: missing input message for server-streaming method", Code.Unimplemented);
  const second = await it.next();
  if (second.done !== true) throw new ConnectError("protocol error: received extra input message for server-streaming method", Code.Unimplemented);
  return first.value;
}

/** The status code a call ends with, as the client receives it: non-ConnectErrors go out as INTERNAL. */
export function codeOf(err: unknown): Code {
  return err instanceof ConnectError ? err.code : Code.Internal;
}

/**
 * Wraps a response stream so that `onEnd` runs once when it ends: with the error it failed with, with
 * `undefined` when it completed, or with CANCELED when the client went away before the end.
 */
export async function* observeStream<T>(messages: AsyncIterable<T>, signal: AbortSignal, onEnd: (err: unknown) => void): AsyncGenerator<T> {
  let outcome: unknown;
  let finished = false;
  try {
    yield* messages;
    finished = true;
  } catch (e) {
    outcome = e;
    finished = true;
    throw e;
  } finally {
    onEnd(finished ? outcome : new ConnectError(signal.aborted ? "the client cancelled the stream" : "the stream was closed early", Code.Canceled));
  }
}
