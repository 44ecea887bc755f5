import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { AsyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";

/** The wire protocol of a call, as its content type says. */
export type Protocol = "grpc" | "grpc-web" | "connect";

/** The connector operations; Python's metrics label the first three. */
export type ConnectorOperation = "create" | "get" | "delete" | "get_metrics" | "get_logs";

/** What every concern of the call pipeline knows about a call; never any request content but its task type. */
export interface CallInfo {
  /** `flyteidl2.connector.AsyncConnectorService` */
  readonly service: string;
  /** `GetTask` */
  readonly method: string;
  /** `unary`, `server_streaming`… */
  readonly methodKind: string;
  readonly protocol: Protocol;
  /** `1.1` or `2.0`. */
  readonly httpVersion: string;
  /** Set for AsyncConnectorService calls and their Flyte 1 twins (AsyncAgentService). */
  readonly operation?: ConnectorOperation;
  /** The task type a connector call is routed by. */
  readonly taskType?: string;
  /** CreateTask's `inputs`, encoded size in bytes (Python's input-bytes metric); undefined elsewhere. */
  readonly inputBytes?: number;
  /** `performance.now()` when the call was decoded. */
  readonly startedAt: number;
}

const OPERATIONS: Readonly<Record<string, ConnectorOperation>> = {
  CreateTask: "create",
  GetTask: "get",
  DeleteTask: "delete",
  GetTaskMetrics: "get_metrics",
  GetTaskLogs: "get_logs",
};

/** The services whose methods are connector operations, by the same method names: Flyte 2's and Flyte 1's. */
const CONNECTOR_SERVICES: ReadonlySet<string> = new Set([AsyncConnectorService.typeName, AsyncAgentService.typeName]);

/** The connector operation a method is, if it is one. */
export function connectorOperationOf(method: DescMethod): ConnectorOperation | undefined {
  return CONNECTOR_SERVICES.has(method.parent.typeName) ? OPERATIONS[method.name] : undefined;
}

/** grpc: `application/grpc[+proto|+json]`; grpc-web: `application/grpc-web[-text][+…]`; anything else is Connect. */
export function protocolFrom(contentType: string | null | undefined): Protocol {
  if (contentType === null || contentType === undefined) return "connect";
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/** The shape every connector request shares, as far as the pipeline reads it. */
interface ConnectorRequestFields {
  readonly template?: { readonly type?: string };
  readonly taskCategory?: { readonly name?: string };
  /** Flyte 1's deprecated routing field, sent by propellers before task categories. */
  readonly taskType?: string;
  readonly connection?: { readonly secrets?: Readonly<Record<string, string>> };
}

/** A decoded call: its {@link CallInfo}, and the connection secrets kept apart so nothing logs them by accident. */
export interface DecodedCall {
  readonly info: CallInfo;
  readonly secrets: Readonly<Record<string, string>> | undefined;
}

/**
 * The call information of a request, read from its message once it is decoded: the transport decodes each
 * request exactly once and every concern reads this.
 */
export function decodedCall(method: DescMethod, message: unknown, protocol: Protocol, httpVersion: string, inputBytes: number | undefined): DecodedCall {
  const service = method.parent.typeName;
  const operation = connectorOperationOf(method);
  let taskType: string | undefined;
  let secrets: Readonly<Record<string, string>> | undefined;
  if (operation !== undefined && message !== undefined) {
    const m = message as ConnectorRequestFields;
    taskType = m.template?.type ?? m.taskCategory?.name ?? (m.taskType || undefined);
    const s = m.connection?.secrets;
    if (s !== undefined && Object.keys(s).length > 0) secrets = s;
  }
  return {
    info: { service, method: method.name, methodKind: method.methodKind, protocol, httpVersion, operation, taskType, inputBytes, startedAt: performance.now() },
    secrets,
  };
}

/** The status code a call ends with, as the client receives it: non-ConnectErrors go out as INTERNAL. */
export function codeOf(err: unknown): Code {
  return err instanceof ConnectError ? err.code : Code.Internal;
}
