/**
 * Offloading a 50 MiB output: the service's GetTask path (`offloadOutputs`: encode the LiteralMap, write
 * `outputs.pb`, wait until durable) to local files and to an S3-compatible server (s3rver, in this process),
 * next to encoding the same LiteralMap alone, in the same run.
 *
 * Run alone: `node --import tsx bench/storage-bench.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { create } from "@bufbuild/protobuf";
import { GetTaskResponseSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { DEFAULT_STORAGE_CONFIG } from "../src/config/storage-config.js";
import { offloadOutputs } from "../src/storage/output-offload.js";
import { outputsFileBytes } from "../src/storage/outputs-file.js";
import { createStorage } from "../src/storage/storage.js";
import type { Row } from "./table.js";

const MiB = 1024 * 1024;

export async function runStorageBench(options: { repeats?: number; sizeBytes?: number } = {}): Promise<Row[]> {
  const repeats = options.repeats ?? 5;
  const size = options.sizeBytes ?? 50 * MiB;
  const text = "flyte-connect outputs ".repeat(Math.ceil(size / 22)).slice(0, size);
  const response = create(GetTaskResponseSchema, {
    resource: {
      phase: TaskExecution_Phase.SUCCEEDED,
      outputs: {
        literals: [
          { name: "o0", value: { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: text } } } } } } },
        ],
      },
    },
  });
  const median = async (fn: (i: number) => Promise<unknown> | unknown) => {
    await fn(-1);
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      await fn(i);
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  };

  const dir = mkdtempSync(join(tmpdir(), "fc-storage-bench-"));
  const { default: S3rver } = await import("s3rver");
  const s3dir = mkdtempSync(join(tmpdir(), "fc-storage-bench-s3-"));
  const s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: s3dir, configureBuckets: [{ name: "flyte-data", configs: [] }] });
  const { port } = await s3.run();
  for (const [k, v] of Object.entries({
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  })) {
    process.env[k] ??= v;
  }
  const storage = createStorage({ ...DEFAULT_STORAGE_CONFIG, s3Endpoint: `http://127.0.0.1:${port}`, s3ForcePathStyle: true });
  const offload = (prefix: string) =>
    offloadOutputs(response, { storage, outputPrefix: prefix, maxResponseBytes: 4 * MiB, always: false, signal: new AbortController().signal });
  try {
    const encode = await median(() => outputsFileBytes(response.resource!.outputs!));
    const local = await median((i) => offload(join(dir, `run-${i}`)));
    const remote = await median((i) => offload(`s3://flyte-data/bench/run-${i}`));
    const row = (what: string, ms: number): Row => ({
      "50 MiB output": what,
      ms: ms.toFixed(1),
      "MiB/s": (size / MiB / (ms / 1000)).toFixed(0),
      "× encode": (ms / encode).toFixed(1),
    });
    return [
      row("encode the LiteralMap (toBinary)", encode),
      row("offload to local files (encode, write, fsync, rename)", local),
      row("offload to S3 (s3rver, PutObject)", remote),
    ];
  } finally {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(s3dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { printTable } = await import("./table.js");
  printTable("Offloading a 50 MiB output to outputs.pb", await runStorageBench());
}
