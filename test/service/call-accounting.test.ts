import * as http2 from "node:http2";
import { setTimeout as delay } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { DeleteTaskRequestSchema, GetTaskLogsRequestSchema, GetTaskRequestSchema, ListConnectorsRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { SleepConnector } from "../../src/connectors/demo/sleep-connector.js";
import { HealthCheckRequestSchema } from "../../src/gen/health/v1/health_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { scrape, valueOf } from "../support/prometheus-text.js";
import { grpcFrame, rawGrpcCall } from "../support/raw-clients.js";

// Issue 11, items 2, 6 and 7: in-flight accounting that always settles, deadlines past what a timer holds,
// and a DeleteTask that cannot fail forever. Each runs with the gRPC fast path on and off.

const MAX_CALLS = 4;
const meta = (o: object) => new TextEncoder().encode(JSON.stringify(o));
const logsRequest = () =>
  grpcFrame(
    toBinary(
      GetTaskLogsRequestSchema,
      // An hour of log lines (about 150 KB): more than a zero window lets through and than node buffers.
      create(GetTaskLogsRequestSchema, {
        taskCategory: { name: "sleep", version: 0 },
        resourceMeta: meta({ seconds: 3600, started_at_ms: Date.now() - 3_600_000 }),
      }),
    ),
  );
const getTask = () =>
  grpcFrame(
    toBinary(
      GetTaskRequestSchema,
      create(GetTaskRequestSchema, { taskCategory: { name: "sleep", version: 0 }, resourceMeta: meta({ seconds: 0, started_at_ms: 0 }) }),
    ),
  );

describe.each([true, false])("grpcFastPath %s", (grpcFastPath) => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ registry: createConnectorRegistry([new SleepConnector()]), config: { grpcFastPath, maxConcurrentCalls: MAX_CALLS } });
  });
  afterAll(async () => {
    await svc.close();
  });
  const inFlight = async () => valueOf((await scrape(svc.metricsUrl!)).samples, "flyte_connector_requests_in_flight");

  test("streams that cannot be written to (zero window) and whose client leaves give their slots back", async () => {
    for (let round = 0; round < 3; round++) {
      // SETTINGS_INITIAL_WINDOW_SIZE=0: the server may send headers but no DATA; its writes wait for a
      // 'drain' that a closed stream never emits.
      const stuck = http2.connect(svc.url, { settings: { initialWindowSize: 0 } });
      stuck.on("error", () => {});
      const streams = Array.from({ length: MAX_CALLS }, () => {
        const stream = stuck.request({
          ":method": "POST",
          ":path": "/flyteidl2.connector.AsyncConnectorService/GetTaskLogs",
          "content-type": "application/grpc",
          te: "trailers",
        });
        stream.on("error", () => {});
        stream.end(logsRequest());
        return stream;
      });
      await delay(150);
      // Half the client reset their streams (RST_STREAM), the others leave with the connection.
      for (const [i, stream] of streams.entries()) if (i % 2 === 0) stream.close(http2.constants.NGHTTP2_CANCEL);
      await delay(50);
      stuck.destroy();
    }
    // Every slot came back: the in-flight gauge is 0 and a full set of calls is admitted again.
    for (let i = 0; i < 40 && (await inFlight()) !== 0; i++) await delay(50);
    expect(await inFlight()).toBe(0);
    const session = http2.connect(svc.url);
    session.on("error", () => {});
    const answers = await Promise.all(
      Array.from({ length: MAX_CALLS }, () => rawGrpcCall(session, "/flyteidl2.connector.AsyncConnectorService/GetTask", getTask())),
    );
    session.destroy();
    expect(answers.map((a) => ({ ...a.headers, ...a.trailers })["grpc-status"])).toEqual(Array(MAX_CALLS).fill("0"));
  });

  test("unary calls whose client resets the stream give their slots back", async () => {
    const session = http2.connect(svc.url, { settings: { initialWindowSize: 0 } });
    session.on("error", () => {});
    await Promise.all(
      Array.from({ length: MAX_CALLS * 3 }, () =>
        rawGrpcCall(session, "/flyteidl2.connector.AsyncConnectorService/GetTask", getTask(), {}, { resetAfterMs: 20 }),
      ),
    );
    session.destroy();
    for (let i = 0; i < 40 && (await inFlight()) !== 0; i++) await delay(50);
    expect(await inFlight()).toBe(0);
  });

  test("a deadline of 2^31 ms or more works: the call is not cut after 1 ms", async () => {
    const session = http2.connect(svc.url);
    session.on("error", () => {});
    // 2,147,484 s is just over 2^31 ms.
    for (const timeout of ["2147484S", "99999999H", "2147483648m"]) {
      const answer = await rawGrpcCall(
        session,
        "/flyteidl2.connector.ConnectorMetadataService/ListConnectors",
        grpcFrame(toBinary(ListConnectorsRequestSchema, create(ListConnectorsRequestSchema))),
        {
          "grpc-timeout": timeout,
        },
      );
      const status = { ...answer.headers, ...answer.trailers };
      // "2147483648m" has 10 digits: malformed for gRPC (at most 8), refused as connect refuses it.
      expect(status["grpc-status"]).toBe(timeout === "2147483648m" ? "3" : "0");
    }
    // A Watch stream with a 25-day deadline stays open.
    const watch = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Watch",
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": "2147484S",
    });
    const events: string[] = [];
    watch.on("data", () => events.push("data"));
    watch.on("trailers", (t) => events.push(`trailers ${t["grpc-status"]}`));
    watch.on("error", () => {});
    watch.end(grpcFrame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema))));
    await delay(300);
    expect(events).toEqual(["data"]);
    watch.close(http2.constants.NGHTTP2_CANCEL);
    session.destroy();
    // Connect's connect-timeout-ms, over HTTP/1.1.
    const res = await fetch(`${svc.url}/flyteidl2.connector.ConnectorMetadataService/ListConnectors`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1", "connect-timeout-ms": String(2 ** 31) },
      body: "{}",
    });
    expect(res.status).toBe(200);
  });

  test("DeleteTask on metadata no connector can read, or a task type nobody serves, is OK and counted", async () => {
    const session = http2.connect(svc.url);
    session.on("error", () => {});
    const del = (taskType: string, resourceMeta: Uint8Array) =>
      rawGrpcCall(
        session,
        "/flyteidl2.connector.AsyncConnectorService/DeleteTask",
        grpcFrame(toBinary(DeleteTaskRequestSchema, create(DeleteTaskRequestSchema, { taskCategory: { name: taskType, version: 0 }, resourceMeta }))),
      );
    const before = (await scrape(svc.metricsUrl!)).samples;
    const answers = [
      await del("sleep", new Uint8Array([0xff, 0x00, 0x13])),
      await del("sleep", meta({ job: "another connector's shape" })),
      await del("removed_type", meta({})),
    ];
    session.destroy();
    expect(answers.map((a) => ({ ...a.headers, ...a.trailers })["grpc-status"])).toEqual(["0", "0", "0"]);
    const after = (await scrape(svc.metricsUrl!)).samples;
    const counted = (labels: Record<string, string>) =>
      valueOf(after, "flyte_connect_delete_ignored_total", labels) - valueOf(before, "flyte_connect_delete_ignored_total", labels);
    expect(counted({ task_type: "sleep", reason: "unreadable_metadata" })).toBe(2);
    expect(counted({ reason: "unknown_task_type" })).toBe(1);
  });
});
