import { Code, ConnectError } from "@connectrpc/connect";
import { InvalidTaskError } from "../../connectors/errors.js";
import { ResourceMetaError } from "../../connectors/resource-meta.js";
import { LiteralError } from "../../literals/errors.js";
import { ConnectorNotFoundError } from "../../registry/errors.js";
import { redactSecrets } from "../pipeline/redact.js";

/** The connector operations whose failures the Python service reports as `failed to {op} {type} task`. */
export type ConnectorOperation = "create" | "get" | "delete" | "get logs of" | "get metrics of";

/** Whether a call was aborted and why; an `AbortSignal` is one, and so is a call whose signal is built lazily. */
export interface AbortState {
  readonly aborted: boolean;
  readonly reason: unknown;
}

/** Where an error happened, for its message. */
export interface ErrorScope {
  readonly operation: ConnectorOperation;
  readonly taskType: string;
  /** Values that must not reach the client: the call's connection secrets. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** The call's signal: an abort at the deadline becomes DEADLINE_EXCEEDED, not INTERNAL. */
  readonly signal?: AbortState;
}

/**
 * The one place where errors become RPC status codes, with the Python service's messages where the executor
 * or its users know them (docs/python-service.md §2.10):
 * - no connector for the task type → NOT_FOUND `Cannot find connector for task type: {type}.`
 * - undecodable resource metadata, a bad input literal, a task the connector refuses → INVALID_ARGUMENT
 * - a deadline or cancel that aborted the call → the abort's own status
 * - anything else a connector throws → INTERNAL `failed to {op} {type} task with error:\n {message}.`
 * Secret values of the call are replaced in every message.
 */
export function connectErrorFrom(err: unknown, scope: ErrorScope): ConnectError {
  const clean = (message: string) => redactSecrets(message, scope.secrets);
  if (err instanceof ConnectError) {
    // A connector calling another RPC service may pass its error on, whatever its code: clean every one.
    const cleaned = clean(err.rawMessage);
    if (err.code !== Code.Internal && err.code !== Code.Unknown && cleaned === err.rawMessage) return err;
    return new ConnectError(cleaned, err.code, err.metadata, undefined, err.cause);
  }
  if (scope.signal?.aborted && scope.signal.reason instanceof ConnectError) return scope.signal.reason;
  if (err instanceof ConnectorNotFoundError) {
    return new ConnectError(`Cannot find connector for task type: ${err.taskTypeName}.`, Code.NotFound);
  }
  if (err instanceof ResourceMetaError) {
    return new ConnectError(clean(`invalid resource_meta for task type ${scope.taskType}: ${err.message}`), Code.InvalidArgument);
  }
  if (err instanceof LiteralError || err instanceof InvalidTaskError) return new ConnectError(clean(err.message), Code.InvalidArgument);
  const message = err instanceof Error ? err.message : String(err);
  return new ConnectError(clean(`failed to ${scope.operation} ${scope.taskType} task with error:\n ${message}.`), Code.Internal, undefined, undefined, err);
}
