const BRAND = Symbol.for("flyte-connect.Datetime");

/** Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range of `google.protobuf.Timestamp`. */
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

const ISO_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * A point in time in UTC with nanosecond precision: the value of a Flyte DATETIME.
 *
 * Flyte datetimes carry microseconds (Python `datetime`) and the wire format nanoseconds; a JS `Date` keeps only
 * milliseconds, so a `Date` would not give back the literal it came from. `Datetime` keeps the exact
 * `google.protobuf.Timestamp` seconds and nanos, converts to and from `Date` and ISO-8601, and is immutable.
 * Writers accept a `Date` wherever a `Datetime` is expected.
 *
 * @example
 * const t = Datetime.fromISOString("2024-01-02T05:04:05.123456+02:00");
 * t.toISOString(); // "2024-01-02T03:04:05.123456Z"
 * t.toDate();      // Date 2024-01-02T03:04:05.123Z (microseconds dropped)
 */
export class Datetime {
  /** Whole seconds since 1970-01-01T00:00:00Z (negative before). */
  readonly seconds: bigint;
  /** Nanoseconds after `seconds`, 0 to 999,999,999. */
  readonly nanos: number;

  private constructor(seconds: bigint, nanos: number) {
    this.seconds = seconds;
    this.nanos = nanos;
    Object.freeze(this);
  }

  /** From seconds since the epoch and a nanosecond part in [0, 1e9). Throws RangeError outside years 1–9999. */
  static fromEpochSeconds(seconds: bigint | number, nanos = 0): Datetime {
    if (typeof seconds === "number" && !Number.isSafeInteger(seconds)) {
      throw new RangeError(`Datetime seconds must be an integer, got ${seconds}`);
    }
    const s = BigInt(seconds);
    if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
      throw new RangeError(`Datetime nanos must be an integer in [0, 999999999], got ${nanos}`);
    }
    if (s < MIN_SECONDS || s > MAX_SECONDS) {
      throw new RangeError(`Datetime ${s}s is outside 0001-01-01..9999-12-31`);
    }
    return new Datetime(s, nanos);
  }

  /** From milliseconds since the epoch (fractions of a millisecond are kept to the nanosecond). */
  static fromEpochMilliseconds(ms: number): Datetime {
    if (!Number.isFinite(ms)) throw new RangeError(`Datetime milliseconds must be finite, got ${ms}`);
    const seconds = Math.floor(ms / 1000);
    const nanos = Math.round((ms - seconds * 1000) * 1e6);
    // Rounding may carry a whole second (999.9999999 ms).
    return nanos >= 1e9 ? Datetime.fromEpochSeconds(seconds + 1, nanos - 1e9) : Datetime.fromEpochSeconds(seconds, nanos);
  }

  /** From a `Date` (millisecond precision). */
  static fromDate(date: Date): Datetime {
    const ms = date.getTime();
    if (Number.isNaN(ms)) throw new RangeError("Datetime.fromDate: invalid Date");
    return Datetime.fromEpochMilliseconds(ms);
  }

  /**
   * Parses ISO-8601 / RFC 3339: `2024-01-02`, `2024-01-02T03:04:05`, `…05.123456789Z`, `…05+02:00`. Like
   * flyte-sdk, a time without an offset is taken as UTC (docs/flyte-literals.md §2.5).
   */
  static fromISOString(text: string): Datetime {
    const m = ISO_PATTERN.exec(text);
    if (m === null) throw new RangeError(`not an ISO-8601 datetime: ${JSON.stringify(text)}`);
    const [year, month, day, hour = 0, minute = 0, second = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((p) =>
      p === undefined ? undefined : Number(p),
    ) as number[];
    const frac = m[7] ?? "";
    const date = new Date(0);
    date.setUTCFullYear(year!, month! - 1, day!);
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
      throw new RangeError(`not a valid datetime: ${JSON.stringify(text)}`);
    }
    let offsetSeconds = 0;
    if (m[9] !== undefined) {
      const oh = Number(m[10]);
      const om = Number(m[11]);
      if (oh > 23 || om > 59) throw new RangeError(`not a valid UTC offset: ${JSON.stringify(text)}`);
      offsetSeconds = (m[9] === "-" ? -1 : 1) * (oh * 3600 + om * 60);
    }
    const seconds = BigInt(date.getTime() / 1000) + BigInt(hour * 3600 + minute * 60 + second - offsetSeconds);
    const nanos = frac === "" ? 0 : Number(frac.padEnd(9, "0"));
    return Datetime.fromEpochSeconds(seconds, nanos);
  }

  /** The current time (millisecond precision). */
  static now(): Datetime {
    return Datetime.fromEpochMilliseconds(Date.now());
  }

  /** Milliseconds since the epoch; sub-millisecond digits are dropped (rounded toward the past). */
  get epochMilliseconds(): number {
    return Number(this.seconds) * 1000 + Math.floor(this.nanos / 1e6);
  }

  /** A `Date` for this instant; sub-millisecond digits are dropped. */
  toDate(): Date {
    return new Date(this.epochMilliseconds);
  }

  /**
   * RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, the form of proto-JSON `Timestamp`:
   * `2024-01-02T03:04:05.123456Z`.
   */
  toISOString(): string {
    const base = new Date(Number(this.seconds) * 1000).toISOString().slice(0, 19);
    return `${base}${fractionDigits(this.nanos)}Z`;
  }

  /** The ISO string, so that `JSON.stringify` writes something readable. */
  toJSON(): string {
    return this.toISOString();
  }

  toString(): string {
    return this.toISOString();
  }

  /** Same instant. */
  equals(other: Datetime): boolean {
    return this.seconds === other.seconds && this.nanos === other.nanos;
  }

  // Two copies of flyte-connect in one process must recognise each other's values.
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
Object.defineProperty(Datetime.prototype, BRAND, { value: true });

/** `.123`, `.123456`, `.123456789` or nothing: the shortest of the proto-JSON lengths that is exact. */
export function fractionDigits(nanos: number): string {
  if (nanos === 0) return "";
  const digits = String(nanos).padStart(9, "0");
  if (nanos % 1_000_000 === 0) return `.${digits.slice(0, 3)}`;
  if (nanos % 1_000 === 0) return `.${digits.slice(0, 6)}`;
  return `.${digits}`;
}
