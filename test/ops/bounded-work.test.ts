import { Code } from "@connectrpc/connect";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { MAX_LOG_PAGE_LINES, MAX_SLEEP_SECONDS } from "../../src/connectors/demo/sleep-connector.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { createTaskRequest, FLOAT, floatLiteral } from "../support/tasks.js";

/**
 * Resource metadata is client input. The reproduction: GetTaskLogs on the sleep demo with metadata
 * {"seconds": 1e12, "started_at_ms": 0} built an entry per second since 1970 and took the process down.
 * Over every client kind it must now answer at once (a clear INVALID_ARGUMENT for an impossible sleep, a
 * bounded page for a long one), and health must keep answering.
 */
let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc.close();
});

const SLEEP = { name: "sleep", version: 0 };
const meta = (text: string) => new TextEncoder().encode(text);

describe.each(CLIENT_KINDS)("bounded work per request over $name", (kind) => {
  test("GetTaskLogs with {seconds: 1e12, started_at_ms: 0} is INVALID_ARGUMENT, and health answers", async () => {
    const tasks = kind.make(AsyncConnectorService, svc.url);
    const health = kind.make(Health, svc.url);
    try {
      const started = Date.now();
      let code: unknown;
      let message = "";
      try {
        for await (const _ of tasks.client.getTaskLogs({
          taskCategory: SLEEP,
          resourceMeta: meta('{"seconds": 1e12, "started_at_ms": 0}'),
          lines: 0n,
          token: "",
        })) {
          // nothing: the call must fail
        }
      } catch (e) {
        code = (e as { code?: unknown }).code;
        message = String((e as Error).message);
      }
      expect(code).toBe(Code.InvalidArgument);
      expect(message).toMatch(/"seconds" must be from 0 to 604800/);
      // Not a speed check: a minute-long freeze (the old behaviour) is what this rules out.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await health.client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    } finally {
      tasks.close();
      health.close();
    }
  });

  test("the longest allowed sleep started in 1970 and a billion lines asked for give one bounded page", async () => {
    const tasks = kind.make(AsyncConnectorService, svc.url);
    try {
      const parts = [];
      for await (const p of tasks.client.getTaskLogs({
        taskCategory: SLEEP,
        resourceMeta: meta(`{"seconds": ${MAX_SLEEP_SECONDS}, "started_at_ms": 0}`),
        lines: 1_000_000_000n,
        token: "",
      })) {
        parts.push(p);
      }
      const body = parts[0]?.part.case === "body" ? parts[0].part.value.lines : [];
      expect(body).toHaveLength(MAX_LOG_PAGE_LINES);
      expect(parts[1]?.part.case === "header" && parts[1].part.value.token).toBe(String(MAX_LOG_PAGE_LINES));
      // The last page: a token near the end gives the remaining lines and "done".
      const last = [];
      for await (const p of tasks.client.getTaskLogs({
        taskCategory: SLEEP,
        resourceMeta: meta(`{"seconds": ${MAX_SLEEP_SECONDS}, "started_at_ms": 0}`),
        lines: 5n,
        token: String(MAX_SLEEP_SECONDS - 1),
      })) {
        last.push(p);
      }
      expect(last.map((p) => p.part.case)).toEqual(["body"]);
      expect(last[0]?.part.case === "body" && last[0].part.value.lines.map((l) => l.message)).toEqual([
        `second ${MAX_SLEEP_SECONDS} of ${MAX_SLEEP_SECONDS}`,
        `done after ${MAX_SLEEP_SECONDS} s`,
      ]);
    } finally {
      tasks.close();
    }
  });
});

test("a sleep longer than the limit is refused at create, and a start in the future in metadata is refused", async () => {
  const [kind] = CLIENT_KINDS;
  const tasks = kind!.make(AsyncConnectorService, svc.url);
  try {
    const createErr = await tasks.client
      .createTask(createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(1e12) } } }))
      .then(
        () => undefined,
        (e: { code?: unknown }) => e.code,
      );
    expect(createErr).toBe(Code.InvalidArgument);
    const future = Date.now() + 3_600_000;
    const getErr = await tasks.client.getTask({ taskCategory: SLEEP, resourceMeta: meta(`{"seconds": 1, "started_at_ms": ${future}}`) }).then(
      () => undefined,
      (e: { code?: unknown }) => e.code,
    );
    expect(getErr).toBe(Code.InvalidArgument);
  } finally {
    tasks.close();
  }
});
