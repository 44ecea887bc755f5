/**
 * The base of flyte-connect's errors: each class has a stable `code` (listed in docs/errors.md), and
 * `instanceof` recognises an error by that code, so that errors made by another copy of the package — a
 * connector module may bring its own — are still recognised. A subclass only declares `static readonly code`.
 *
 * @example
 * export class QuotaError extends CodedError {
 *   static readonly code = "ACME_QUOTA";
 * }
 */
export abstract class CodedError extends Error {
  /** Set by each concrete subclass. */
  static readonly code: string | undefined = undefined;
  /** The subclass's stable code. */
  readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    const ctor = new.target as typeof CodedError;
    if (!ctor.code) throw new TypeError(`${ctor.name} must declare a static code`);
    this.code = ctor.code;
    this.name = ctor.name;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const code = (value as { code?: unknown }).code;
    // `this` is the class on the right of instanceof: CodedError itself matches any of our codes.
    return this.code === undefined ? typeof code === "string" && code.startsWith("FC_") : code === this.code;
  }
}
