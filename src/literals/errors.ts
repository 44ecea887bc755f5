import { CodedError } from "../errors/coded-error.js";

/**
 * A literal that does not fit its declared Flyte type, or a value that cannot become a literal of its declared
 * type. The service answers INVALID_ARGUMENT when CreateTask inputs do not convert, and reports a FAILED phase
 * when a connector's outputs do not fit the task's interface.
 *
 * The message names where the problem is, outermost first: `input 'xs'[3]['k']: expected INTEGER, got a string literal`.
 *
 * @example
 * try { valuesFromInputs(inputs, iface) } catch (err) { if (err instanceof LiteralError) console.log(err.path) }
 */
export class LiteralError extends CodedError {
  static override readonly code = "FC_BAD_LITERAL";
  /** What is wrong, without the location. */
  readonly reason: string;
  /** Where the problem is, outermost first, e.g. `["input 'xs'", "[3]", "['k']"]`. */
  readonly path: readonly string[];

  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.reason = reason;
    this.path = [];
  }

  /**
   * Adds an outer location to the error and returns it, so that a converter can rethrow what a nested
   * conversion threw without building path strings on the success path.
   * @internal
   */
  within(segment: string): this {
    (this.path as string[]).unshift(segment);
    this.message = `${joinPath(this.path)}: ${this.reason}`;
    return this;
  }
}

function joinPath(path: readonly string[]): string {
  let out = "";
  for (const segment of path) {
    out += out !== "" && !segment.startsWith("[") && !segment.startsWith(".") ? ` ${segment}` : segment;
  }
  return out;
}

/**
 * Rethrow helper: a {@link LiteralError} gets `segment` added to its path; anything else is wrapped, so that a
 * bug deep in a conversion still names the input it happened in.
 * @internal
 */
export function literalErrorWithin(err: unknown, segment: string): LiteralError {
  if (err instanceof LiteralError) return (err as LiteralError).within(segment);
  const reason = err instanceof Error ? err.message : String(err);
  return new LiteralError(reason, { cause: err }).within(segment);
}
