import { CodedError } from "../errors/coded-error.js";

/** No connector is registered for a task type and version. The service answers NOT_FOUND. */
export class ConnectorNotFoundError extends CodedError {
  static override readonly code = "FC_CONNECTOR_NOT_FOUND";
  constructor(
    message: string,
    readonly taskTypeName: string,
  ) {
    super(message);
  }
}

/** A second connector was registered for a task category without `override`. */
export class DuplicateConnectorError extends CodedError {
  static override readonly code = "FC_DUPLICATE_CONNECTOR";
}
