import { toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { InputsSchema } from "#idl/flyteidl2/task/common_pb.js";
import { SleepConnector } from "../../src/connectors/demo/sleep-connector.js";
import { Health } from "../../src/gen/health/v1/health_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { FlakyConnector, SlowConnector } from "../fixtures/ops-connectors.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import { createTaskRequest, FLOAT, floatLiteral, INTEGER, intLiteral } from "../support/tasks.js";
import { scrape, valueOf } from "../support/prometheus-text.js";

let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ registry: createConnectorRegistry([new SleepConnector(), new FlakyConnector(), new SlowConnector()]) });
});
afterAll(async () => {
  await svc.close();
});

const kind = (name: string) => CLIENT_KINDS.find((k) => k.name === name)!;
/** The three protocols: gRPC (grpc-js, as the executor), gRPC-Web and Connect JSON. */
const PROTOCOLS = [
  { protocol: "grpc", kind: kind("grpc-js (h2c)") },
  { protocol: "grpc-web", kind: kind("connect-node gRPC-Web (HTTP/1.1)") },
  { protocol: "connect", kind: kind("connect-node Connect JSON (h2c)") },
] as const;

describe("the metrics port", () => {
  test("has Python's series, help strings and labels, counted over all three protocols", async () => {
    const sleepCreate = createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(30) } } });
    const inputBytes = toBinary(InputsSchema, sleepCreate.inputs!).byteLength;
    expect(inputBytes).toBeGreaterThan(0);
    for (const { kind } of PROTOCOLS) {
      const c = kind.make(AsyncConnectorService, svc.url);
      try {
        const created = await c.client.createTask(sleepCreate);
        await c.client.getTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: created.resourceMeta });
        await c.client.deleteTask({ taskCategory: { name: "sleep", version: 0 }, resourceMeta: created.resourceMeta });
        await expect(c.client.createTask(createTaskRequest({ type: "bigquery_query_job_task" }))).rejects.toThrow();
      } finally {
        c.close();
      }
    }
    const { text, samples } = await scrape(svc.metricsUrl!);
    // docs/python-service.md §3.3, in table order.
    expect(text).toContain(
      "# HELP flyte_connector_requests_success_total Total number of successful requests\n# TYPE flyte_connector_requests_success_total counter",
    );
    expect(text).toContain(
      "# HELP flyte_connector_requests_failure_total Total number of failed requests\n# TYPE flyte_connector_requests_failure_total counter",
    );
    expect(text).toContain(
      "# HELP flyte_connector_request_latency_seconds Time spent processing connector request\n# TYPE flyte_connector_request_latency_seconds summary",
    );
    expect(text).toContain("# HELP flyte_connector_input_literal_bytes Size of input literal\n# TYPE flyte_connector_input_literal_bytes summary");

    for (const operation of ["create", "get", "delete"]) {
      expect(valueOf(samples, "flyte_connector_requests_success_total", { task_type: "sleep", operation })).toBe(3);
      expect(valueOf(samples, "flyte_connector_request_latency_seconds_count", { task_type: "sleep", operation })).toBe(3);
    }
    expect(valueOf(samples, "flyte_connector_requests_failure_total", { task_type: "bigquery_query_job_task", operation: "create", error_code: "404" })).toBe(
      3,
    );
    // Failures are timed too, as Python's `.time()` does.
    expect(valueOf(samples, "flyte_connector_request_latency_seconds_count", { task_type: "bigquery_query_job_task", operation: "create" })).toBe(3);
    // Summaries without quantiles, as Python's.
    expect(samples.some((s) => s.name === "flyte_connector_request_latency_seconds" && "quantile" in s.labels)).toBe(false);
    expect(valueOf(samples, "flyte_connector_input_literal_bytes_count", { task_type: "sleep" })).toBe(3);
    expect(valueOf(samples, "flyte_connector_input_literal_bytes_sum", { task_type: "sleep" })).toBe(3 * inputBytes);
    // Labels are exactly Python's.
    const success = samples.find((s) => s.name === "flyte_connector_requests_success_total")!;
    expect(Object.keys(success.labels).sort()).toEqual(["operation", "task_type"]);
    const failure = samples.find((s) => s.name === "flyte_connector_requests_failure_total")!;
    expect(Object.keys(failure.labels).sort()).toEqual(["error_code", "operation", "task_type"]);

    // Beyond Python: histograms, GetTask phases, per-protocol RPC counts.
    expect(valueOf(samples, "flyte_connector_request_duration_seconds_count", { task_type: "sleep", operation: "get" })).toBe(3);
    expect(valueOf(samples, "flyte_connector_request_duration_seconds_bucket", { task_type: "sleep", operation: "get", le: "+Inf" })).toBe(3);
    expect(valueOf(samples, "flyte_connector_get_task_phase_total", { task_type: "sleep", phase: "RUNNING" })).toBe(3);
    for (const { protocol } of PROTOCOLS) {
      expect(
        valueOf(samples, "grpc_server_handled_total", { grpc_service: AsyncConnectorService.typeName, grpc_method: "CreateTask", protocol, grpc_code: "OK" }),
      ).toBe(1);
      expect(valueOf(samples, "grpc_server_handled_total", { grpc_method: "CreateTask", protocol, grpc_code: "NotFound" })).toBe(1);
    }
    expect(valueOf(samples, "grpc_server_handling_seconds_count", { grpc_method: "GetTask", grpc_type: "unary" })).toBe(3);
    // Process metrics.
    expect(valueOf(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(valueOf(samples, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
  });

  test("connector failures count with their HTTP-style error code; phases and in-flight calls are visible", async () => {
    const client = grpcJsClient(AsyncConnectorService, svc.address);
    try {
      const before = (await scrape(svc.metricsUrl!)).samples;
      // Flaky fails every second call: 4 creates → 2 OK, 2 INTERNAL ("500").
      const codes = [];
      for (let i = 0; i < 4; i++)
        codes.push(
          await client.createTask(createTaskRequest({ type: "flaky" })).then(
            () => 0,
            (e: { code: number }) => e.code,
          ),
        );
      expect(codes.sort()).toEqual([0, 0, status.INTERNAL, status.INTERNAL]);
      // A slow call is in flight while we look.
      const slow = client.createTask(createTaskRequest({ type: "slow", inputs: { ms: { type: INTEGER, literal: intLiteral(600) } } }));
      await new Promise((r) => setTimeout(r, 200));
      const during = (await scrape(svc.metricsUrl!)).samples;
      expect(valueOf(during, "flyte_connector_requests_in_flight", { task_type: "slow", operation: "create" })).toBe(1);
      await slow;
      const after = (await scrape(svc.metricsUrl!)).samples;
      expect(valueOf(after, "flyte_connector_requests_in_flight", { task_type: "slow", operation: "create" })).toBe(0);
      const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
      expect(delta("flyte_connector_requests_failure_total", { task_type: "flaky", operation: "create", error_code: "500" })).toBe(2);
      expect(delta("flyte_connector_requests_success_total", { task_type: "flaky", operation: "create" })).toBe(2);
      // An INVALID_ARGUMENT is "400": the HTTP equivalent, like Python's "404" and "500".
      await grpcStatusOf(client.getTask({ resourceMeta: new Uint8Array() }));
      const bad = (await scrape(svc.metricsUrl!)).samples;
      expect(valueOf(bad, "grpc_server_handled_total", { grpc_method: "GetTask", grpc_code: "InvalidArgument" })).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
    }
  });

  test("health and metadata calls are counted, and task types nobody registered cannot grow the label set", async () => {
    const health = grpcJsClient(Health, svc.address);
    const meta = grpcJsClient(ConnectorMetadataService, svc.address);
    const tasks = grpcJsClient(AsyncConnectorService, svc.address);
    try {
      await health.check({ service: "" });
      await meta.listConnectors({});
      for (let i = 0; i < 40; i++) await grpcStatusOf(tasks.getTask({ taskCategory: { name: `made_up_${i}`, version: 0 }, resourceMeta: new Uint8Array() }));
      const { samples } = await scrape(svc.metricsUrl!);
      expect(valueOf(samples, "grpc_server_handled_total", { grpc_service: Health.typeName, grpc_method: "Check", grpc_code: "OK" })).toBeGreaterThanOrEqual(1);
      expect(
        valueOf(samples, "grpc_server_handled_total", { grpc_service: ConnectorMetadataService.typeName, grpc_method: "ListConnectors" }),
      ).toBeGreaterThanOrEqual(1);
      const labels = new Set(
        samples.filter((s) => s.name === "flyte_connector_requests_failure_total" && s.labels["operation"] === "get").map((s) => s.labels["task_type"]),
      );
      expect(labels.has("other")).toBe(true);
      expect(labels.size).toBeLessThanOrEqual(16 + 2);
      expect(valueOf(samples, "flyte_connector_requests_failure_total", { operation: "get", error_code: "404" })).toBe(40);
    } finally {
      health.close();
      meta.close();
      tasks.close();
    }
  });

  test("each service has its own registry: two services in one process count apart", async () => {
    const other = await startService({ registry: createConnectorRegistry([new SleepConnector()]) });
    try {
      const { samples } = await scrape(other.metricsUrl!);
      expect(valueOf(samples, "flyte_connector_requests_success_total")).toBe(0);
      expect(other.metricsUrl).not.toBe(svc.metricsUrl);
    } finally {
      await other.close();
    }
  });

  test("/healthz, /readyz (503 while draining), 404 elsewhere; the port closes after the service", async () => {
    const base = svc.metricsUrl!.replace(/\/metrics$/, "");
    const drained = await startService({ registry: createConnectorRegistry([new SlowConnector()]), config: { drainTimeoutMs: 3000 } });
    const url = drained.metricsUrl!.replace(/\/metrics$/, "");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${url}/readyz`)).text()).toBe("SERVING\n");
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: "POST" })).status).toBe(405);
    const client = grpcJsClient(AsyncConnectorService, drained.address);
    try {
      const inFlight = client.createTask(createTaskRequest({ type: "slow", inputs: { ms: { type: INTEGER, literal: intLiteral(800) } } }));
      await new Promise((r) => setTimeout(r, 150));
      const closing = drained.close();
      const ready = await fetch(`${url}/readyz`);
      expect([ready.status, await ready.text()]).toEqual([503, "NOT_SERVING\n"]);
      // The drain can be watched: the metrics port still answers while the call finishes.
      expect((await scrape(`${url}/metrics`)).samples.length).toBeGreaterThan(0);
      await expect(inFlight).resolves.toBeDefined();
      await closing;
      await expect(fetch(`${url}/metrics`)).rejects.toThrow();
    } finally {
      client.close();
      await drained.close();
    }
  });
});
