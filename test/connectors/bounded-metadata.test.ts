import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import * as grpc from "@grpc/grpc-js";
import { HttpJobConnector } from "../../src/connectors/http-job/http-job-connector.js";
import { MAX_RESPONSE_BYTES } from "../../src/connectors/http-job/http-call.js";
import { PostgresConnector } from "../../src/connectors/postgres/postgres-connector.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient, grpcStatusOf, type GrpcJsClient } from "../helpers/grpc-js-client.js";

/**
 * Resource metadata comes back from the executor, and anyone who can call the service can forge it: the
 * built-in connectors must bound whatever work it drives (rows read into memory, bytes read from a job API).
 */
let svc: RunningService;
let client: GrpcJsClient<typeof AsyncConnectorService>;
let api: http.Server;
let apiUrl = "";
const postgres = new PostgresConnector();

beforeAll(async () => {
  // A job API whose answers are far larger than any status: declared in content-length, or streamed.
  api = http.createServer((req, res) => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    if (req.url === "/declared") {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(64 * MAX_RESPONSE_BYTES) });
      res.write(chunk);
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    let sent = 0;
    const more = () => {
      while (sent < 2 * MAX_RESPONSE_BYTES && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once("drain", more);
          return;
        }
      }
      res.end("{}");
    };
    more();
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  svc = await startService({ registry: createConnectorRegistry([new HttpJobConnector({ callBudgetMs: 3000 }), postgres]) });
  client = grpcJsClient(AsyncConnectorService, svc.address);
});
afterAll(async () => {
  client.close();
  await svc.close();
  await postgres.close();
  api.closeAllConnections();
  await new Promise((resolve) => api.close(resolve));
});

const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

function httpJobMeta(path: string) {
  return bytes({
    job_id: "j1",
    status: { method: "GET", url: `${apiUrl}${path}`, headers: {} },
    state: "/state",
    states: {},
    outputs: {},
    output_types: {},
    vars: {},
    log_links: [],
    request_timeout_ms: 2000,
  });
}

test.each(["/declared", "/streamed"])("an HTTP job whose status answer (%s) is too large is FAILED, not read whole", async (path) => {
  const rssBefore = process.memoryUsage().rss;
  const got = await client.getTask({ taskCategory: { name: "http_job", version: 0 }, resourceMeta: httpJobMeta(path) }, { timeoutMs: 10_000 });
  expect(got.resource?.phase).toBe(TaskExecution_Phase.FAILED);
  expect(got.resource?.message).toContain(`larger than ${MAX_RESPONSE_BYTES} bytes`);
  // 16 MiB were offered, and a 512 MiB body was declared; only the limit's worth is ever held.
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
});

test("a DeleteTask whose cancel answer is too large still answers OK", async () => {
  const meta = JSON.parse(new TextDecoder().decode(httpJobMeta("/streamed"))) as Record<string, unknown>;
  const withCancel = bytes({ ...meta, cancel: { method: "POST", url: `${apiUrl}/streamed`, headers: {} } });
  await expect(client.deleteTask({ taskCategory: { name: "http_job", version: 0 }, resourceMeta: withCancel }, { timeoutMs: 10_000 })).resolves.toBeDefined();
});

test.each([
  ["max_inline_rows far beyond the limit", { max_inline_rows: 1e9 }, /max_inline_rows/],
  ["a fractional max_inline_rows", { max_inline_rows: 1.5 }, /max_inline_rows/],
  ["a schema that is not an identifier", { schema: 'public"; DROP TABLE x; --' }, /schema/],
])("PostgreSQL metadata with %s is INVALID_ARGUMENT before any database is asked", async (_, override, pattern) => {
  const meta = bytes({ job_id: "fc0123456789abcdef01234567", schema: "public", output_kinds: {}, output_types: {}, max_inline_rows: 10, ...override });
  const status = await grpcStatusOf(client.getTask({ taskCategory: { name: "postgres", version: 0 }, resourceMeta: meta }, { timeoutMs: 10_000 }));
  expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(status.details).toMatch(pattern);
});
