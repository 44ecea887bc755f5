import { isoTimestamp } from "../../src/log/iso-timestamp.js";

/** The cached timestamp writes what `pino.stdTimeFunctions.isoTime` writes, at every millisecond and across seconds. */
afterEach(() => jest.restoreAllMocks());

test.each([
  Date.UTC(2026, 11, 2, 4, 12, 52, 0),
  Date.UTC(2026, 11, 2, 4, 12, 52, 7),
  Date.UTC(2026, 11, 2, 4, 12, 52, 42),
  Date.UTC(2026, 11, 2, 4, 12, 52, 999),
  Date.UTC(2026, 11, 2, 4, 12, 53, 1),
  Date.UTC(2026, 11, 31, 23, 59, 59, 999),
  Date.UTC(2027, 0, 1, 0, 0, 0, 0),
])("%i", (now) => {
  jest.spyOn(Date, "now").mockReturnValue(now);
  expect(isoTimestamp()).toBe(`,"time":"${new Date(now).toISOString()}"`);
});

test("going back in time (a clock step) is written as it is", () => {
  const later = Date.UTC(2026, 11, 2, 4, 12, 53, 500);
  const earlier = Date.UTC(2026, 11, 2, 4, 12, 52, 500);
  jest.spyOn(Date, "now").mockReturnValueOnce(later).mockReturnValueOnce(earlier);
  expect(isoTimestamp()).toBe(`,"time":"${new Date(later).toISOString()}"`);
  expect(isoTimestamp()).toBe(`,"time":"${new Date(earlier).toISOString()}"`);
});
