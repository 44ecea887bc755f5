import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { status } from "@grpc/grpc-js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { valuesFromOutputs, outputTypesOf } from "../../src/literals/convert.js";
import { startService } from "../../src/testing/start-service.js";
import { connectors } from "../../examples/word-count-connector.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import { createTaskRequest, intLiteral, INTEGER, STRING, stringLiteral } from "../support/tasks.js";

const ROOT = resolve(__dirname, "../..");

test("the README shows the example connector exactly as it is tested", () => {
  const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
  const source = readFileSync(resolve(ROOT, "examples/word-count-connector.ts"), "utf8");
  expect(readme).toContain(source.trim());
});

test("the example connector runs through the real service", async () => {
  const svc = await startService({ registry: createConnectorRegistry(connectors) });
  const client = grpcJsClient(AsyncConnectorService, svc.address);
  try {
    const request = createTaskRequest({
      type: "word_count",
      inputs: { text: { type: STRING, literal: stringLiteral("the quick brown fox jumps") }, min_length: { type: INTEGER, literal: intLiteral(4) } },
      outputs: { o0: INTEGER, o1: { type: { case: "collectionType", value: { type: { case: "simple", value: SimpleType.STRING } } } } },
    });
    const created = await client.createTask(request);
    const got = await client.getTask({ taskCategory: { name: "word_count", version: 0 }, resourceMeta: created.resourceMeta });
    expect(got.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
    expect(valuesFromOutputs(got.resource?.outputs, outputTypesOf(request.template?.interface))).toEqual({ o0: 3n, o1: ["quick"] });

    const negative = createTaskRequest({
      type: "word_count",
      inputs: { text: { type: STRING, literal: stringLiteral("a") }, min_length: { type: INTEGER, literal: intLiteral(-1) } },
    });
    expect(await grpcStatusOf(client.createTask(negative))).toEqual({ code: status.INVALID_ARGUMENT, details: "min_length must not be negative" });
  } finally {
    client.close();
    await svc.close();
  }
});
