import { fc, test } from "@fast-check/jest";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Datetime } from "../../src/literals/datetime.js";

describe("Datetime", () => {
  test.each([
    ["2024-01-02T03:04:05.123456Z", "2024-01-02T03:04:05.123456Z"],
    ["2024-01-02T05:04:05.123456+02:00", "2024-01-02T03:04:05.123456Z"],
    ["2024-01-02T03:04:05.123456", "2024-01-02T03:04:05.123456Z"],
    ["2024-01-01T22:04:05-0500", "2024-01-02T03:04:05Z"],
    ["2024-01-02", "2024-01-02T00:00:00Z"],
    ["2024-01-02 03:04", "2024-01-02T03:04:00Z"],
    ["2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05.100Z"],
    ["2024-01-02T03:04:05.000000001Z", "2024-01-02T03:04:05.000000001Z"],
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"],
    ["9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z"],
    ["1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"],
  ])("parses %s as %s (naive means UTC, as flyte-sdk)", (text, iso) => {
    expect(Datetime.fromISOString(text).toISOString()).toBe(iso);
  });

  test.each(["2024-02-30", "2024-13-01", "2024-01-02T24:00:00Z", "2024-01-02T03:04:05+25:00", "yesterday", "2024-01-02T03:04:05.1234567890Z"])(
    "rejects %s",
    (text) => {
      expect(() => Datetime.fromISOString(text)).toThrow(RangeError);
    },
  );

  test("keeps nanoseconds that a Date would lose, and converts to Date by truncating", () => {
    const dt = Datetime.fromEpochSeconds(1704164645n, 123_456_789);
    expect(dt.toISOString()).toBe("2024-01-02T03:04:05.123456789Z");
    expect(dt.toDate().toISOString()).toBe("2024-01-02T03:04:05.123Z");
    expect(Datetime.fromEpochSeconds(-1n, 999_999_999).toDate().getTime()).toBe(-1);
  });

  test("refuses values outside Timestamp's range and bad nanos", () => {
    expect(() => Datetime.fromEpochSeconds(253402300800n)).toThrow(RangeError);
    expect(() => Datetime.fromEpochSeconds(-62135596801n)).toThrow(RangeError);
    expect(() => Datetime.fromEpochSeconds(0, 1e9)).toThrow(RangeError);
    expect(() => Datetime.fromEpochSeconds(0, -1)).toThrow(RangeError);
    expect(() => Datetime.fromDate(new Date(NaN))).toThrow(RangeError);
  });

  test.prop([fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true })])(
    "agrees with protobuf-es on Dates and round-trips through ISO",
    (date) => {
      const dt = Datetime.fromDate(date);
      const ts = timestampFromDate(date);
      expect([dt.seconds, dt.nanos]).toEqual([ts.seconds, ts.nanos]);
      expect(dt.toDate()).toEqual(timestampDate(ts));
      expect(Datetime.fromISOString(dt.toISOString())).toEqual(dt);
    },
  );

  test.prop([fc.bigInt({ min: -62135596800n, max: 253402300799n }), fc.integer({ min: 0, max: 999_999_999 })])(
    "round-trips any Timestamp through its ISO form",
    (seconds, nanos) => {
      const dt = Datetime.fromEpochSeconds(seconds, nanos);
      expect(Datetime.fromISOString(dt.toISOString()).equals(dt)).toBe(true);
    },
  );

  test("is recognised across copies of the library by its brand", () => {
    const copy = Object.create(Datetime.prototype) as object;
    expect(copy instanceof Datetime).toBe(true);
    expect({ seconds: 1n, nanos: 0 } instanceof Datetime).toBe(false);
  });
});
