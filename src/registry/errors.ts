/** No connector is registered for a task type and version. The service answers NOT_FOUND. */
export class ConnectorNotFoundError extends Error {
  readonly code = "FC_CONNECTOR_NOT_FOUND";
  constructor(
    message: string,
    readonly taskTypeName: string,
  ) {
    super(message);
    this.name = "ConnectorNotFoundError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { code?: unknown }).code === "FC_CONNECTOR_NOT_FOUND";
  }
}

/** A second connector was registered for a task category without `override`. */
export class DuplicateConnectorError extends Error {
  readonly code = "FC_DUPLICATE_CONNECTOR";
  constructor(message: string) {
    super(message);
    this.name = "DuplicateConnectorError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { code?: unknown }).code === "FC_DUPLICATE_CONNECTOR";
  }
}
