import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createConnectorRegistry } from "flyte-connect";
import { startService, type RunningService } from "flyte-connect/testing";
import { connectors } from "./connector.js";

// The connector through the real service on a free port, called as the Flyte executor calls it; here over
// Connect JSON with fetch, which needs no client library.

let svc: RunningService;
before(async () => {
  svc = await startService({ registry: createConnectorRegistry(connectors) });
});
after(() => svc.close());

/** The parts of the answers these tests read. */
interface Answer {
  readonly status: number;
  readonly body: {
    readonly resourceMeta?: string;
    readonly resource?: { readonly phase: string; readonly outputs?: { readonly literals: unknown[] } };
    readonly code?: string;
    readonly message?: string;
  };
}

async function call(method: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${svc.url}/flyteidl2.connector.AsyncConnectorService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer["body"] };
}

// What the executor sends: the task template with its interface, and the inputs as Flyte literals.
const template = {
  type: "word_count",
  interface: {
    inputs: {
      variables: [
        { key: "min_length", value: { type: { simple: "INTEGER" } } },
        { key: "text", value: { type: { simple: "STRING" } } },
      ],
    },
  },
};
const inputs = (text: string, minLength: number) => ({
  literals: [
    { name: "text", value: { scalar: { primitive: { stringValue: text } } } },
    { name: "min_length", value: { scalar: { primitive: { integer: String(minLength) } } } },
  ],
});

test("a task runs to SUCCEEDED with its outputs, and deleting it succeeds", async () => {
  const created = await call("CreateTask", { template, inputs: inputs("the quick brown fox jumps", 4), outputPrefix: "s3://bucket/run/a0/0" });
  assert.equal(created.status, 200);
  const task = { taskCategory: { name: "word_count" }, resourceMeta: created.body.resourceMeta };
  const got = await call("GetTask", task);
  assert.equal(got.body.resource?.phase, "SUCCEEDED");
  assert.deepEqual(got.body.resource?.outputs?.literals, [
    { name: "count", value: { scalar: { primitive: { integer: "3" } } } },
    { name: "longest", value: { scalar: { primitive: { stringValue: "quick" } } } },
  ]);
  assert.equal((await call("DeleteTask", task)).status, 200);
});

test("a task the connector refuses is INVALID_ARGUMENT with the connector's message", async () => {
  const res = await call("CreateTask", { template, inputs: inputs("a", -1) });
  assert.equal(res.status, 400);
  assert.deepEqual(res.body, { code: "invalid_argument", message: "min_length must not be negative" });
});

test("a task whose interface does not match the connector's is INVALID_ARGUMENT naming the input", async () => {
  const res = await call("CreateTask", { template: { type: "word_count" }, inputs: {} });
  assert.equal(res.status, 400);
  assert.match(res.body.message ?? "", /input 'min_length'/);
});
