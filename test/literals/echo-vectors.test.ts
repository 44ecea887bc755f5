import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromJson, toBinary, type JsonValue } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { LiteralSchema, type Literal } from "#idl/flyteidl2/core/literals_pb.js";
import { LiteralTypeSchema } from "#idl/flyteidl2/core/types_pb.js";
import { EchoConnector } from "../../src/connectors/demo/echo-connector.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { RecordingConnector } from "../fixtures/core-connectors.js";
import { grpcJsClient, grpcStatusOf, type GrpcJsClient } from "../helpers/grpc-js-client.js";
import { phaseName, pollTask } from "../support/task-polling.js";
import { createTaskRequest } from "../support/tasks.js";
import { ANNOTATED_DATAFRAME_LT, CONTAINER_ERROR_LT, SET_PICKLE_LT, SPEC_VECTORS, STATS_LT } from "./fixtures/spec-vectors.js";

/**
 * Every docs/flyte-literals.md §7 vector through the real service over gRPC (grpc-js, as the executor's stand-in): the
 * echo connector receives the input as a value and returns it as the output of the same name, typed by the
 * template's output interface; the output literal must be the input literal, byte for byte.
 */

const recording = new RecordingConnector();
let svc: RunningService;
let client: GrpcJsClient<typeof AsyncConnectorService>;

beforeAll(async () => {
  svc = await startService({ registry: createConnectorRegistry([new EchoConnector(), recording]) });
  client = grpcJsClient(AsyncConnectorService, svc.address);
});
afterAll(async () => {
  client.close();
  await svc.close();
});

const lt = (json: JsonValue) => fromJson(LiteralTypeSchema, json);
const lit = (json: JsonValue) => fromJson(LiteralSchema, json);
const hex = (literal: Literal | undefined) => (literal === undefined ? "(none)" : Buffer.from(toBinary(LiteralSchema, literal)).toString("hex"));

/** CreateTask + GetTask through echo; returns the output literals by name. */
async function echo(inputs: Record<string, { type: JsonValue; literal: JsonValue }>): Promise<Record<string, Literal>> {
  const request = createTaskRequest({
    type: "echo",
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { type: lt(v.type), literal: lit(v.literal) }])),
    outputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, lt(v.type)])),
  });
  const created = await client.createTask(request, { timeoutMs: 10_000 });
  const { resource } = await pollTask(client, created.resourceMeta, { category: { name: "echo", version: 0 } });
  if (resource.phase !== TaskExecution_Phase.SUCCEEDED) throw new Error(`echo ended ${phaseName(resource.phase)}: ${resource.message}`);
  return Object.fromEntries((resource.outputs?.literals ?? []).map((l) => [l.name, l.value!]));
}

describe("echo returns every §7 vector's value as the same literal, over gRPC", () => {
  test.each(SPEC_VECTORS.map((v) => [`${v.id} ${v.what}`, v] as const))("%s", async (_name, v) => {
    const out = await echo({ v: { type: v.lt, literal: v.lit } });
    expect(Object.keys(out)).toEqual(["v"]);
    expect(hex(out["v"])).toBe(hex(lit(v.writesAs ?? v.lit)));
  });

  test("V36 annotated DataFrame, V37 pickle, V39 protobuf", async () => {
    const dataset = {
      scalar: {
        structuredDataset: {
          uri: "s3://b/df2",
          metadata: {
            structuredDatasetType: {
              columns: [
                { name: "a", literalType: { simple: "INTEGER" } },
                { name: "b", literalType: { simple: "STRING" } },
              ],
              format: "parquet",
            },
          },
        },
      },
    };
    const pickle = {
      scalar: { binary: { value: Buffer.from("80059503000000000000008f942e", "hex").toString("base64") } },
      hash: "9c1185a5c5e9fc54612808977ee8f548",
    };
    const proto = { scalar: { generic: { code: "code", message: "message" } } };
    const out = await echo({
      df: { type: ANNOTATED_DATAFRAME_LT, literal: dataset },
      pickled: { type: SET_PICKLE_LT, literal: pickle },
      proto: { type: CONTAINER_ERROR_LT, literal: proto },
    });
    expect(hex(out["df"])).toBe(hex(lit(dataset)));
    expect(hex(out["pickled"])).toBe(hex(lit(pickle)));
    expect(hex(out["proto"])).toBe(hex(lit(proto)));
  });

  test("V38 an offloaded literal at a file:// uri comes back inline", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "fc-echo-")), "lit.pb");
    writeFileSync(path, toBinary(LiteralSchema, lit({ scalar: { primitive: { stringValue: "big" } } })));
    const out = await echo({
      s: { type: { simple: "STRING" }, literal: { offloadedMetadata: { uri: `file://${path}`, sizeBytes: "3", inferredType: { simple: "STRING" } } } },
    });
    expect(hex(out["s"])).toBe(hex(lit({ scalar: { primitive: { stringValue: "big" } } })));
  });

  test("V40 several inputs sent in random order come back under their names, in the interface's order", async () => {
    const out = await echo({
      b: { type: { simple: "STRING" }, literal: { scalar: { primitive: { stringValue: "hi" } } } },
      a: { type: { simple: "INTEGER" }, literal: { scalar: { primitive: { integer: "42" } } } },
    });
    expect(Object.keys(out).sort()).toEqual(["a", "b"]);
    expect(hex(out["a"])).toBe("0a040a02082a");
    expect(hex(out["b"])).toBe("0a060a041a026869");
  });
});

describe("bad literals make CreateTask fail with INVALID_ARGUMENT naming the input; nothing is created", () => {
  const P = (primitive: JsonValue) => ({ scalar: { primitive } });
  const OPT_INT = {
    unionType: {
      variants: [
        { simple: "INTEGER", structure: { tag: "int" } },
        { simple: "NONE", structure: { tag: "none" } },
      ],
    },
  };
  const corrupt = { scalar: { binary: { value: Buffer.from("83a46d65616e", "hex").toString("base64"), tag: "msgpack" } } };

  test.each<[string, Record<string, { type: JsonValue; literal?: JsonValue }>, RegExp]>([
    ["a type mismatch", { n: { type: { simple: "INTEGER" }, literal: P({ stringValue: "7" }) } }, /input 'n': expected INTEGER, got a string literal/],
    [
      "a missing required input",
      { n: { type: { simple: "INTEGER" } }, s: { type: { simple: "STRING" }, literal: P({ stringValue: "x" }) } },
      /input 'n': is missing/,
    ],
    [
      "an unknown union tag",
      { o: { type: OPT_INT, literal: { scalar: { union: { value: P({ integer: "1" }), type: { simple: "INTEGER", structure: { tag: "integer" } } } } } } },
      /input 'o': unknown union tag "integer"/,
    ],
    ["corrupt msgpack", { stats: { type: STATS_LT, literal: corrupt } }, /input 'stats': corrupt msgpack for STRUCT Stats/],
    [
      "an int64 out of range",
      { n: { type: { simple: "INTEGER" }, literal: P({ floatValue: 1e19 }) } },
      /input 'n': integer 10000000000000000000 is out of the int64 range/,
    ],
    [
      "a nested mismatch",
      { xs: { type: { collectionType: { simple: "FLOAT" } }, literal: { collection: { literals: [P({ floatValue: 1 }), P({ boolean: true })] } } } },
      /input 'xs'\[1\]: expected FLOAT, got a boolean literal/,
    ],
  ])("%s", async (_name, inputs, details) => {
    const before = recording.creates.length;
    const request = createTaskRequest({
      type: "recording",
      inputs: Object.fromEntries(
        Object.entries(inputs).map(([k, v]) => [k, { type: lt(v.type), ...(v.literal === undefined ? {} : { literal: lit(v.literal) }) }]),
      ),
    });
    const failed = await grpcStatusOf(client.createTask(request, { timeoutMs: 10_000 }));
    expect(failed.code).toBe(status.INVALID_ARGUMENT);
    expect(failed.details).toMatch(details);
    expect(recording.creates.length).toBe(before);
  });

  test("the recording connector does receive good inputs (the check above can fail)", async () => {
    const before = recording.creates.length;
    await client.createTask(createTaskRequest({ type: "recording", inputs: { n: { type: lt({ simple: "INTEGER" }), literal: lit(P({ integer: "1" })) } } }), {
      timeoutMs: 10_000,
    });
    expect(recording.creates.length).toBe(before + 1);
    expect(recording.creates.at(-1)!.request.inputs).toEqual({ n: 1n });
  });

  test("an output that does not fit its declared type is a FAILED phase naming the output", async () => {
    // Echo returns the string input as the output of the same name, declared INTEGER here.
    const request = createTaskRequest({
      type: "echo",
      inputs: { o0: { type: lt({ simple: "STRING" }), literal: lit(P({ stringValue: "x" })) } },
      outputs: { o0: lt({ simple: "INTEGER" }) },
    });
    const created = await client.createTask(request, { timeoutMs: 10_000 });
    const { resource } = await pollTask(client, created.resourceMeta, { category: { name: "echo", version: 0 } });
    expect(phaseName(resource.phase)).toBe("FAILED");
    expect(resource.message).toMatch(/output 'o0': expected an integer .*got the string "x"/);
  });
});
