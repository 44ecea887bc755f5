import { fc, test } from "@fast-check/jest";
import { Timedelta } from "../../src/literals/timedelta.js";

describe("Timedelta", () => {
  test.each([
    [Timedelta.of({ hours: 5, minutes: 30 }), "19800s", 19800n, 0],
    [Timedelta.of({ microseconds: 1500 }), "0.001500s", 0n, 1_500_000],
    [Timedelta.fromMilliseconds(-1500), "-1.500s", -1n, -500_000_000],
    [Timedelta.fromMilliseconds(-0.5), "-0.000500s", 0n, -500_000],
    [Timedelta.of({ days: 1, nanoseconds: 1 }), "86400.000000001s", 86400n, 1],
    [Timedelta.fromSeconds(0), "0s", 0n, 0],
  ])("%s is %s (seconds and nanos share the sign, as google.protobuf.Duration)", (td, text, seconds, nanos) => {
    expect(td.toString()).toBe(text);
    expect([td.seconds, td.nanos]).toEqual([seconds, nanos]);
    expect(Timedelta.fromString(text)).toEqual(td);
  });

  test("refuses mixed signs, bad nanos and out-of-range values", () => {
    expect(() => Timedelta.fromSeconds(1n, -1)).toThrow(/same sign/);
    expect(() => Timedelta.fromSeconds(0n, 1e9)).toThrow(RangeError);
    expect(() => Timedelta.fromSeconds(315_576_000_001n)).toThrow(/out of range/);
    expect(() => Timedelta.fromString("1h")).toThrow(RangeError);
    expect(() => Timedelta.fromMilliseconds(Infinity)).toThrow(RangeError);
  });

  test("converts to milliseconds and seconds", () => {
    expect(Timedelta.of({ minutes: 1, seconds: 30, microseconds: 5 }).toSeconds()).toBeCloseTo(90.000005, 9);
    expect(Timedelta.fromMilliseconds(-1500).toMilliseconds()).toBe(-1500);
  });

  test.prop([fc.bigInt({ min: -315_576_000_000_999_999_999n, max: 315_576_000_000_999_999_999n })])(
    "any Duration round-trips through its proto-JSON string",
    (total) => {
      const td = Timedelta.fromNanoseconds(total);
      expect(td.totalNanoseconds).toBe(total);
      expect(Timedelta.fromString(td.toString())).toEqual(td);
    },
  );
});
