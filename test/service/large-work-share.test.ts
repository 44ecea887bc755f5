import { LargeWorkShare } from "../../src/service/pipeline/large-request/large-work-share.js";

/** The share of the event loop that large requests' slices take: rests follow slices, turns go in order. */
test("after a slice, the next one waits as long again at a share of 50 %, and waiting tasks take turns in order", async () => {
  const share = new LargeWorkShare({ share: 0.5, sliceMs: 2 });
  const order: string[] = [];
  const start = performance.now();
  const a = share.pause(20).then(() => order.push("a"));
  const b = share.pause(0).then(() => order.push("b"));
  await Promise.all([a, b]);
  // Timers never fire early: the first release came no sooner than the 20 ms slice's rest.
  expect(performance.now() - start).toBeGreaterThanOrEqual(19);
  expect(order).toEqual(["a", "b"]);
});

test("a task that finishes without pausing again does not hold up the others", async () => {
  const share = new LargeWorkShare({ share: 1, sliceMs: 2 });
  const released: number[] = [];
  await Promise.all([1, 2, 3].map((n) => share.pause(1).then(() => released.push(n))));
  expect(released).toEqual([1, 2, 3]);
});

test("a share outside (0, 1] is refused", () => {
  expect(() => new LargeWorkShare({ share: 0, sliceMs: 2 })).toThrow(RangeError);
  expect(() => new LargeWorkShare({ share: 1.5, sliceMs: 2 })).toThrow(RangeError);
});
