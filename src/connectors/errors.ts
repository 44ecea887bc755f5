import { CodedError } from "../errors/coded-error.js";

/**
 * An error a connector throws from `get` to report that the job failed, with a message for the user.
 * The service turns it into a successful GetTask with phase RETRYABLE_FAILED or FAILED, never an RPC error:
 * the executor shows that message and retries only when it says retryable (docs/flyte-executor.md §4.5).
 * Thrown from `create` or `delete`, it becomes an INTERNAL error with its message.
 *
 * @example
 * if (res.status >= 500) throw ConnectorError.retryable(`job API answered ${res.status}`);
 */
export class ConnectorError extends CodedError {
  static override readonly code = "FC_CONNECTOR_ERROR";

  private constructor(
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** The job failed but may succeed if run again: RETRYABLE_FAILED. */
  static retryable(message: string, options?: ErrorOptions): ConnectorError {
    return new ConnectorError(message, true, options);
  }

  /** The job failed and running it again will not help: FAILED. */
  static permanent(message: string, options?: ErrorOptions): ConnectorError {
    return new ConnectorError(message, false, options);
  }
}

/**
 * The task's template, configuration or inputs are not what the connector accepts (a missing `custom`
 * field, a negative duration). Thrown from `create`, the service answers INVALID_ARGUMENT with this message.
 */
export class InvalidTaskError extends CodedError {
  static override readonly code = "FC_INVALID_TASK";
}
