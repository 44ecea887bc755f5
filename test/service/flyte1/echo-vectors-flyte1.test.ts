import { fromJson, toBinary, type JsonValue } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { TaskExecution_Phase as Phase } from "#idl1/flyteidl/core/execution_pb.js";
import { LiteralSchema, type Literal } from "#idl1/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema } from "#idl1/flyteidl/core/types_pb.js";
import { AsyncAgentService } from "#idl1/flyteidl/service/agent_pb.js";
import { EchoConnector } from "../../../src/connectors/demo/echo-connector.js";
import { createConnectorRegistry } from "../../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";
import { SPEC_VECTORS } from "../../literals/fixtures/spec-vectors.js";
import { flyte1CreateRequest } from "../../helpers/flyte1-tasks.js";
import { grpcJsClient, grpcStatusOf, type GrpcJsClient } from "../../helpers/grpc-js-client.js";

/**
 * The type engine's spec vectors through echo over Flyte 1's AsyncAgentService: a flytekit-shaped template and
 * a LiteralMap in, a LiteralMap out, and the output literal byte for byte the input literal (or the literal the
 * vector says it is written back as). The vectors that apply are those Flyte 1's messages can express: each is
 * parsed with Flyte 1's LiteralType and Literal schemas, and one that uses a Flyte 2-only field is left out.
 */

let svc: RunningService;
let client: GrpcJsClient<typeof AsyncAgentService>;
beforeAll(async () => {
  svc = await startService({ registry: createConnectorRegistry([new EchoConnector()]) });
  client = grpcJsClient(AsyncAgentService, svc.address);
});
afterAll(async () => {
  client.close();
  await svc.close();
});

const parse = <T>(fn: () => T): T | undefined => {
  try {
    return fn();
  } catch {
    return undefined;
  }
};
const hex = (literal: Literal | undefined) => (literal === undefined ? "(none)" : Buffer.from(toBinary(LiteralSchema, literal)).toString("hex"));

const APPLICABLE = SPEC_VECTORS.flatMap((v) => {
  const type = parse(() => fromJson(LiteralTypeSchema, v.lt as JsonValue));
  const literal = parse(() => fromJson(LiteralSchema, v.lit as JsonValue));
  const expected = parse(() => fromJson(LiteralSchema, (v.writesAs ?? v.lit) as JsonValue));
  return type && literal && expected ? [{ v, type, literal, expected }] : [];
});

test("most of the spec vectors apply to Flyte 1 literals", () => {
  expect(APPLICABLE.length).toBeGreaterThanOrEqual(Math.floor(SPEC_VECTORS.length * 0.9));
});

describe("echo over Flyte 1 returns each applicable vector as the same literal", () => {
  test.each(APPLICABLE.map((a) => [`${a.v.id} ${a.v.what}`, a] as const))("%s", async (_name, { type, literal, expected }) => {
    const created = await client.createTask(flyte1CreateRequest({ type: "echo", inputs: { v: { type, literal } }, outputs: { v: type } }), {
      timeoutMs: 10_000,
    });
    const got = await client.getTask({ taskCategory: { name: "echo", version: 0 }, resourceMeta: created.resourceMeta }, { timeoutMs: 10_000 });
    expect(got.resource?.phase).toBe(Phase.SUCCEEDED);
    expect(Object.keys(got.resource?.outputs?.literals ?? {})).toEqual(["v"]);
    expect(hex(got.resource?.outputs?.literals["v"])).toBe(hex(expected));
  });
});

test("a LiteralMap that does not fit the interface is INVALID_ARGUMENT naming the input", async () => {
  const type = fromJson(LiteralTypeSchema, { simple: "INTEGER" });
  const literal = fromJson(LiteralSchema, { scalar: { primitive: { stringValue: "7" } } });
  const failed = await grpcStatusOf(client.createTask(flyte1CreateRequest({ type: "echo", inputs: { n: { type, literal } }, outputs: { n: type } })));
  expect(failed.code).toBe(status.INVALID_ARGUMENT);
  expect(failed.details).toMatch(/input 'n': expected INTEGER, got a string literal/);
});
