import { Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import { parseSamples } from "../support/prometheus-text.js";
import { CounterFamily, GaugeFamily, HistogramFamily, SummaryFamily } from "../../src/service/pipeline/metric-families.js";

/**
 * The service's own metric families print exactly what prom-client prints for the same updates, so that
 * dashboards and scrapers see no difference; label values that need escaping included.
 */
const BUCKETS = [0.001, 0.01, 0.1, 1];
const LABELS = [
  { task_type: "sleep", operation: "get" },
  { task_type: 'quote"back\\slash\nnewline', operation: "create" },
];

async function promText(register: (registry: Registry) => void): Promise<string> {
  const registry = new Registry();
  register(registry);
  return (await registry.metrics()).trimEnd();
}

test("a counter prints as prom-client's", async () => {
  const ours = new CounterFamily("c_total", "counts\\things\nhere", ["task_type", "operation"]);
  const expected = await promText((registry) => {
    const theirs = new Counter({ name: "c_total", help: "counts\\things\nhere", labelNames: ["task_type", "operation"], registers: [registry] });
    for (const [i, labels] of LABELS.entries()) {
      theirs.inc(labels, i + 1);
      theirs.inc(labels);
    }
  });
  for (const [i, labels] of LABELS.entries()) {
    ours.of(labels).inc(i + 1);
    ours.of(labels).inc();
  }
  expect(ours.render()).toBe(expected);
});

test("a gauge prints as prom-client's, going up and down", async () => {
  const ours = new GaugeFamily("g", "in flight", ["task_type", "operation"]);
  const expected = await promText((registry) => {
    const theirs = new Gauge({ name: "g", help: "in flight", labelNames: ["task_type", "operation"], registers: [registry] });
    theirs.inc(LABELS[0]!);
    theirs.inc(LABELS[0]!);
    theirs.dec(LABELS[0]!);
    theirs.inc(LABELS[1]!);
    theirs.dec(LABELS[1]!);
  });
  const a = ours.of(LABELS[0]!);
  a.inc();
  a.inc();
  a.dec();
  const b = ours.of(LABELS[1]!);
  b.inc();
  b.dec();
  expect(ours.render()).toBe(expected);
});

test("a histogram prints cumulative buckets, +Inf, sum and count as prom-client does", async () => {
  const values = [0.0005, 0.001, 0.002, 0.05, 0.5, 3, 100];
  const ours = new HistogramFamily("h_seconds", "durations", ["task_type", "operation"], BUCKETS);
  const expected = await promText((registry) => {
    const theirs = new Histogram({ name: "h_seconds", help: "durations", labelNames: ["task_type", "operation"], buckets: BUCKETS, registers: [registry] });
    for (const v of values) theirs.observe(LABELS[0]!, v);
    theirs.observe(LABELS[1]!, 0.01);
  });
  for (const v of values) ours.of(LABELS[0]!).observe(v);
  ours.of(LABELS[1]!).observe(0.01);
  // prom-client puts `le` first or last depending on how the series was created; the samples are the same.
  expect(parseSamples(ours.render())).toEqual(parseSamples(expected));
  expect(ours.render()).toContain('h_seconds_bucket{task_type="sleep",operation="get",le="0.001"} 2');
  expect(ours.render()).toContain('h_seconds_bucket{task_type="sleep",operation="get",le="+Inf"} 7');
});

test("a summary without quantiles prints sum and count as prom-client does", async () => {
  const ours = new SummaryFamily("s_bytes", "sizes", ["task_type"]);
  const expected = await promText((registry) => {
    const theirs = new Summary({ name: "s_bytes", help: "sizes", labelNames: ["task_type"], percentiles: [], registers: [registry] });
    theirs.observe({ task_type: "sleep" }, 10);
    theirs.observe({ task_type: "sleep" }, 32);
  });
  ours.of({ task_type: "sleep" }).observe(10);
  ours.of({ task_type: "sleep" }).observe(32);
  expect(ours.render()).toBe(expected);
});

test("a family with no series yet prints its HELP and TYPE only, as prom-client does", async () => {
  const expected = await promText((registry) => {
    new Counter({ name: "none_total", help: "nothing yet", labelNames: ["reason"], registers: [registry] });
  });
  expect(new CounterFamily("none_total", "nothing yet", ["reason"]).render()).toBe(expected);
});

test("the same label values find the same series", () => {
  const family = new CounterFamily("same_total", "h", ["a", "b"]);
  family.of({ a: "x", b: "y" }).inc();
  family.of({ b: "y", a: "x" }).inc();
  family.of({ a: "x y", b: "" }).inc();
  expect(family.render().split("\n").slice(2)).toEqual(['same_total{a="x",b="y"} 2', 'same_total{a="x y",b=""} 1']);
});
