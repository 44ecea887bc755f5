/**
 * Prometheus metric families kept as plain numbers, for the series every RPC updates.
 *
 * Why not prom-client's metrics: each of their updates validates the label object and hashes it (sorting its
 * keys) before it finds the series, and a GetTask updates nine series. Here a caller looks a series up once,
 * by its label values, keeps it (see metrics.ts: one set of series per method, protocol and task type), and
 * an update is an addition. The text exposition is the same as prom-client's, so the two registries' output
 * concatenates into one scrape.
 */

type LabelValues<L extends string> = Readonly<Record<L, string>>;

abstract class Family<L extends string, S> {
  private readonly series = new Map<string, { readonly labels: string; readonly value: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    private readonly type: "counter" | "gauge" | "histogram" | "summary",
  ) {}

  /** The series with these label values, created at zero on first use. Keep it: the lookup builds a key. */
  of(labels: LabelValues<L>): S {
    const values = this.labelNames.map((name) => labels[name]);
    const key = values.join("\u0000");
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: this.labelNames.map((name, i) => `${name}="${escapeLabelValue(values[i]!)}"`).join(","), value: this.create() };
      this.series.set(key, entry);
    }
    return entry.value;
  }

  /** The family in the Prometheus text format, without a trailing newline. */
  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.series.values()) this.sample(lines, labels, value);
    return lines.join("\n");
  }

  protected abstract create(): S;
  protected abstract sample(lines: string[], labels: string, series: S): void;

  protected line(name: string, labels: string, value: number): string {
    return labels === "" ? `${name} ${formatValue(value)}` : `${name}{${labels}} ${formatValue(value)}`;
  }
}

/** A counter's series. */
export class CounterSeries {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

/** A gauge's series. */
export class GaugeSeries {
  value = 0;
  inc(): void {
    this.value += 1;
  }
  dec(): void {
    this.value -= 1;
  }
}

/** A histogram's series: counts per bucket (not cumulative until rendered), sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]! += 1;
        return;
      }
    }
  }
}

/** A summary's series without quantiles: sum and count, as Python's prometheus_client keeps them. */
export class SummarySeries {
  sum = 0;
  count = 0;
  observe(value: number): void {
    this.sum += value;
    this.count += 1;
  }
}

/** A family whose series are one number each: counters and gauges. */
class ValueFamily<L extends string, S extends { readonly value: number }> extends Family<L, S> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    type: "counter" | "gauge",
    private readonly make: () => S,
  ) {
    super(name, help, labelNames, type);
  }
  protected create(): S {
    return this.make();
  }
  protected sample(lines: string[], labels: string, series: S): void {
    lines.push(this.line(this.name, labels, series.value));
  }
}

export class CounterFamily<L extends string> extends ValueFamily<L, CounterSeries> {
  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, labelNames, "counter", () => new CounterSeries());
  }
}

export class GaugeFamily<L extends string> extends ValueFamily<L, GaugeSeries> {
  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, labelNames, "gauge", () => new GaugeSeries());
  }
}

export class HistogramFamily<L extends string> extends Family<L, HistogramSeries> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    private readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames, "histogram");
  }
  protected create(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }
  protected sample(lines: string[], labels: string, series: HistogramSeries): void {
    const prefix = labels === "" ? "" : `${labels},`;
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += series.counts[i]!;
      lines.push(this.line(`${this.name}_bucket`, `${prefix}le="${formatValue(this.bounds[i]!)}"`, cumulative));
    }
    lines.push(this.line(`${this.name}_bucket`, `${prefix}le="+Inf"`, series.count));
    lines.push(this.line(`${this.name}_sum`, labels, series.sum));
    lines.push(this.line(`${this.name}_count`, labels, series.count));
  }
}

export class SummaryFamily<L extends string> extends Family<L, SummarySeries> {
  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, labelNames, "summary");
  }
  protected create(): SummarySeries {
    return new SummarySeries();
  }
  protected sample(lines: string[], labels: string, series: SummarySeries): void {
    lines.push(this.line(`${this.name}_sum`, labels, series.sum));
    lines.push(this.line(`${this.name}_count`, labels, series.count));
  }
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
