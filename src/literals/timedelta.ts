import { fractionDigits } from "./datetime.js";

const BRAND = Symbol.for("flyte-connect.Timedelta");

/** ±10,000 years: the range of `google.protobuf.Duration`. */
const MAX_SECONDS = 315_576_000_000n;

/** The parts {@link Timedelta.of} adds up; each may be fractional or negative. */
export interface TimedeltaParts {
  readonly days?: number;
  readonly hours?: number;
  readonly minutes?: number;
  readonly seconds?: number;
  readonly milliseconds?: number;
  readonly microseconds?: number;
  readonly nanoseconds?: number;
}

/**
 * A signed length of time with nanosecond precision: the value of a Flyte DURATION (Python `timedelta`).
 *
 * Keeps the exact `google.protobuf.Duration` seconds and nanos (both with the same sign), so that
 * `timedelta(microseconds=1500)` comes back as the literal it was. Immutable.
 *
 * @example
 * Timedelta.of({ hours: 5, minutes: 30 }).toString(); // "19800s"
 * Timedelta.fromMilliseconds(-1500).toString();      // "-1.500s"
 */
export class Timedelta {
  /** Whole seconds; negative for negative durations. */
  readonly seconds: bigint;
  /** Nanoseconds, with the sign of `seconds` (or any sign when `seconds` is 0), |nanos| < 1e9. */
  readonly nanos: number;

  private constructor(seconds: bigint, nanos: number) {
    this.seconds = seconds;
    this.nanos = nanos;
    Object.freeze(this);
  }

  /** From `google.protobuf.Duration`-style parts. Throws RangeError when the signs differ or out of range. */
  static fromSeconds(seconds: bigint | number, nanos = 0): Timedelta {
    if (typeof seconds === "number" && !Number.isSafeInteger(seconds)) {
      return Timedelta.fromNanoseconds(secondsToNanos(seconds) + BigInt(Math.trunc(nanos)));
    }
    const s = BigInt(seconds);
    if (!Number.isInteger(nanos) || nanos <= -1e9 || nanos >= 1e9) {
      throw new RangeError(`Timedelta nanos must be an integer in (-1e9, 1e9), got ${nanos}`);
    }
    if ((s > 0n && nanos < 0) || (s < 0n && nanos > 0)) {
      throw new RangeError(`Timedelta seconds and nanos must have the same sign, got ${s}s and ${nanos}ns`);
    }
    if (s > MAX_SECONDS || s < -MAX_SECONDS) throw new RangeError(`Timedelta ${s}s is out of range (±10000 years)`);
    return new Timedelta(s, nanos === 0 ? 0 : nanos); // no -0
  }

  /** From a total number of nanoseconds. */
  static fromNanoseconds(total: bigint): Timedelta {
    const seconds = total / 1_000_000_000n; // truncates toward zero: same sign for both parts
    return Timedelta.fromSeconds(seconds, Number(total - seconds * 1_000_000_000n));
  }

  /** From milliseconds (fractions kept to the nanosecond). */
  static fromMilliseconds(ms: number): Timedelta {
    if (!Number.isFinite(ms)) throw new RangeError(`Timedelta milliseconds must be finite, got ${ms}`);
    return Timedelta.fromNanoseconds(BigInt(Math.round(ms * 1e6)));
  }

  /** Adds up days, hours, … nanoseconds, like Python's `timedelta(hours=5, minutes=30)`. */
  static of(parts: TimedeltaParts): Timedelta {
    const { days = 0, hours = 0, minutes = 0, seconds = 0, milliseconds = 0, microseconds = 0, nanoseconds = 0 } = parts;
    const total =
      secondsToNanos(days * 86400) +
      secondsToNanos(hours * 3600) +
      secondsToNanos(minutes * 60) +
      secondsToNanos(seconds) +
      BigInt(Math.round(milliseconds * 1e6)) +
      BigInt(Math.round(microseconds * 1e3)) +
      BigInt(Math.round(nanoseconds));
    return Timedelta.fromNanoseconds(total);
  }

  /** Parses the proto-JSON form `"19800s"`, `"0.001500s"`, `"-1.500s"`. */
  static fromString(text: string): Timedelta {
    const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
    if (m === null) throw new RangeError(`not a duration like "1.5s": ${JSON.stringify(text)}`);
    const sign = m[1] === "-" ? -1n : 1n;
    const total = (BigInt(m[2]!) * 1_000_000_000n + BigInt((m[3] ?? "").padEnd(9, "0"))) * sign;
    return Timedelta.fromNanoseconds(total);
  }

  /** The total in nanoseconds. */
  get totalNanoseconds(): bigint {
    return this.seconds * 1_000_000_000n + BigInt(this.nanos);
  }

  /** The total in milliseconds, as a float (exact up to about 104 days at nanosecond precision). */
  toMilliseconds(): number {
    return Number(this.seconds) * 1000 + this.nanos / 1e6;
  }

  /** The total in seconds, as a float. */
  toSeconds(): number {
    return Number(this.seconds) + this.nanos / 1e9;
  }

  /** The proto-JSON form: `"19800s"`, `"0.001500s"`, `"-1.500s"`. */
  toString(): string {
    const negative = this.seconds < 0n || this.nanos < 0;
    const s = this.seconds < 0n ? -this.seconds : this.seconds;
    return `${negative ? "-" : ""}${s}${fractionDigits(Math.abs(this.nanos))}s`;
  }

  toJSON(): string {
    return this.toString();
  }

  equals(other: Timedelta): boolean {
    return this.seconds === other.seconds && this.nanos === other.nanos;
  }

  // Two copies of flyte-connect in one process must recognise each other's values.
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
Object.defineProperty(Timedelta.prototype, BRAND, { value: true });

function secondsToNanos(seconds: number): bigint {
  if (!Number.isFinite(seconds)) throw new RangeError(`Timedelta part must be finite, got ${seconds}`);
  const whole = Math.trunc(seconds);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((seconds - whole) * 1e9));
}
