/** Bytes that are not one complete msgpack value. @internal */
export class MsgpackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MsgpackError";
  }
}
