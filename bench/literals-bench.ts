/**
 * The type engine's cost next to protobuf's own: a ~3 MiB CreateTask `Inputs` (a 100k-element int list, a
 * 10k-entry map of dataclass structs, one 2 MiB string) converted to values and back to literals, against
 * `fromBinary`/`toBinary` of the same bytes in the same run. Target (issue 3): conversion ≤ 2× decode+encode.
 *
 * Run alone: `node --import tsx bench/literals-bench.ts`.
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { TypedInterface } from "#idl/flyteidl2/core/interface_pb.js";
import { InputsSchema, type Inputs } from "#idl/flyteidl2/task/common_pb.js";
import { inputsFromValues, outputsFromValues, valuesFromInputs } from "../src/literals/convert.js";
import { defineInterface } from "../src/literals/define-interface.js";
import { t } from "../src/literals/t.js";

/** One line of the table: median milliseconds over the repeats, and the ratio to decode+encode of the same input. */
export interface LiteralsBenchRow {
  readonly name: string;
  readonly ms: number;
  /** `ms` divided by the decode+encode time of the same bytes; undefined for the baseline rows themselves. */
  readonly ratio: number | undefined;
}

export interface LiteralsBenchOptions {
  /** Timed repeats per measurement (after warm-up); the median is reported. */
  readonly repeats?: number;
  readonly warmups?: number;
}

const STATS = t.dataclass("Stats", { mean: t.float(), count: t.int(), label: t.string() });

function benchInterface(parts: { ints: boolean; structs: boolean; text: boolean }) {
  const fields = {
    ...(parts.ints ? { ints: t.list(t.int()) } : {}),
    ...(parts.structs ? { structs: t.map(STATS) } : {}),
    ...(parts.text ? { text: t.string() } : {}),
  };
  return defineInterface({ inputs: fields, outputs: fields });
}

function benchValues(): Record<string, unknown> {
  // Task inputs are mostly small non-negative counts; 3-byte varints keep the list near 1 MiB.
  const ints = Array.from({ length: 100_000 }, (_, i) => BigInt((i * 7919) % 1_000_003));
  const structs: Record<string, unknown> = {};
  for (let i = 0; i < 10_000; i++) structs[`key-${i}`] = { mean: i + 0.5, count: i, label: `label ${i % 97}` };
  const text = "flyte ".repeat((2 * 1024 * 1024) / 6);
  return { ints, structs, text };
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(fn: () => unknown, repeats: number, warmups: number): number {
  for (let i = 0; i < warmups; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

interface Case {
  readonly name: string;
  readonly iface: TypedInterface;
  readonly outputTypes: ReturnType<typeof benchInterface>["outputTypes"];
  readonly bytes: Uint8Array;
}

function measure(c: Case, repeats: number, warmups: number): LiteralsBenchRow[] {
  const inputs: Inputs = fromBinary(InputsSchema, c.bytes);
  const values = valuesFromInputs(inputs, c.iface);
  const decodeMs = time(() => fromBinary(InputsSchema, c.bytes), repeats, warmups);
  const encodeMs = time(() => toBinary(InputsSchema, inputs), repeats, warmups);
  const readMs = time(() => valuesFromInputs(inputs, c.iface), repeats, warmups);
  const writeMs = time(() => outputsFromValues(values, c.outputTypes), repeats, warmups);
  const protobufMs = decodeMs + encodeMs;
  const size = `${(c.bytes.length / 1024 / 1024).toFixed(2)} MiB`;
  return [
    { name: `${c.name} (${size}): protobuf decode + encode`, ms: protobufMs, ratio: undefined },
    { name: `${c.name}: literals → values (valuesFromInputs)`, ms: readMs, ratio: readMs / protobufMs },
    { name: `${c.name}: values → literals (outputsFromValues)`, ms: writeMs, ratio: writeMs / protobufMs },
    { name: `${c.name}: conversion both ways`, ms: readMs + writeMs, ratio: (readMs + writeMs) / protobufMs },
  ];
}

/** Runs the conversion benchmark and returns the table rows; all ratios come from this one run. */
export async function runLiteralsBench(options: LiteralsBenchOptions = {}): Promise<LiteralsBenchRow[]> {
  const repeats = options.repeats ?? 9;
  const warmups = options.warmups ?? 3;
  const values = benchValues();
  const cases: Case[] = [];
  const add = (name: string, parts: { ints: boolean; structs: boolean; text: boolean }) => {
    const iface = benchInterface(parts);
    const subset = Object.fromEntries(Object.entries(values).filter(([k]) => k in iface.inputs));
    const bytes = toBinary(InputsSchema, inputsFromValues(subset, iface.typedInterface));
    cases.push({ name, iface: iface.typedInterface, outputTypes: iface.outputTypes, bytes });
  };
  add("all three", { ints: true, structs: true, text: true });
  add("100k ints", { ints: true, structs: false, text: false });
  add("10k structs", { ints: false, structs: true, text: false });
  add("2 MiB string", { ints: false, structs: false, text: true });
  const rows: LiteralsBenchRow[] = [];
  for (const c of cases) rows.push(...measure(c, repeats, warmups));
  return rows;
}

/** The rows as an aligned text table. */
export function formatLiteralsBench(rows: readonly LiteralsBenchRow[]): string {
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = [`${"conversion".padEnd(width)}  ${"ms".padStart(9)}  ${"× pb".padStart(6)}`];
  for (const r of rows)
    lines.push(`${r.name.padEnd(width)}  ${r.ms.toFixed(2).padStart(9)}  ${r.ratio === undefined ? "".padStart(6) : r.ratio.toFixed(2).padStart(6)}`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const rows = await runLiteralsBench();
  process.stdout.write(`${formatLiteralsBench(rows)}\n`);
}
