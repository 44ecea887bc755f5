import { Code } from "@connectrpc/connect";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { PLANTED_SECRET } from "../fixtures/ops-connectors.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, INTEGER, intLiteral } from "../support/tasks.js";
import { createSecretScanner } from "../support/secret-scan.js";
import { startServe } from "../support/cli.js";

/**
 * SIGTERM under load, against the real CLI in a child process: clients of every kind keep calling a
 * connector that takes 100–1200 ms; SIGTERM arrives mid-load. Every call the service accepted (its connector
 * started) must be answered OK; calls after the signal are refused with UNAVAILABLE (or find the port
 * closed); health turns NOT_SERVING; the process exits 0. The test prints the counts.
 */
const LOAD_BEFORE_SIGNAL_MS = 3_000;

test("SIGTERM under load: every accepted call is answered, later ones are refused, exit code 0", async () => {
  const serve = await startServe(["--modules", "./test/fixtures/ops-connectors.ts", "--no-builtins", "--drain-timeout-ms", "10000", "--log-level", "info"]);
  const scanner = createSecretScanner();
  let signalledAt = 0;
  type Outcome = { kind: string; startedAt: number; endedAt: number; code: number; message: string };
  const outcomes: Outcome[] = [];

  // A health Watch opened before the signal sees NOT_SERVING.
  const health = grpcJsClient(Health, serve.address);
  const watched: ServingStatus[] = [];
  const watch = (async () => {
    try {
      for await (const r of health.watch({ service: "" })) watched.push(r.status);
    } catch {
      // The stream ends with UNAVAILABLE when the drain starts.
    }
  })();

  const workers = [...CLIENT_KINDS, ...CLIENT_KINDS].map(async (kind, w) => {
    const c = kind.make(AsyncConnectorService, serve.url);
    let refusedInARow = 0;
    let n = w;
    try {
      // Stop once the service has clearly gone: three refusals in a row after the signal.
      while (refusedInARow < 3 && Date.now() - (signalledAt || Date.now()) < 8_000) {
        const ms = 100 + ((n++ * 337) % 1100);
        const startedAt = Date.now();
        const spill = n % 10 === 0;
        const req = spill
          ? createTaskRequest({ type: "spill", secrets: { password: PLANTED_SECRET } })
          : createTaskRequest({ type: "slow", inputs: { ms: { type: INTEGER, literal: intLiteral(ms) } } });
        const outcome = await c.client.createTask(req).then(
          () => ({ code: 0, message: "" }),
          (e: { code?: number; message?: string }) => ({ code: e.code ?? -1, message: e.message ?? "" }),
        );
        scanner.add("error message", outcome.message);
        if (!spill) outcomes.push({ kind: kind.name, startedAt, endedAt: Date.now(), ...outcome });
        refusedInARow = signalledAt && outcome.code !== 0 ? refusedInARow + 1 : 0;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      c.close();
    }
  });

  await new Promise((r) => setTimeout(r, LOAD_BEFORE_SIGNAL_MS));
  signalledAt = Date.now();
  serve.child.kill("SIGTERM");
  // While draining, the metrics port says not ready (polled: the signal takes a moment to arrive).
  let ready = 200;
  for (let i = 0; i < 100 && ready === 200; i++) {
    ready = await fetch(serve.metricsUrl!.replace(/\/metrics$/, "/readyz")).then(
      (r) => r.status,
      () => 0,
    );
    if (ready === 200) await new Promise((r) => setTimeout(r, 20));
  }
  const exit = await serve.exited;
  const exitedAt = Date.now();
  await Promise.all(workers);
  await watch;
  health.close();

  const output = serve.output();
  scanner.add("process output line", output.split("\n"));
  const lines = output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  // "Accepted": the connector started on it (the slow connector logs that line as its create begins).
  const accepted = lines.filter((l) => l["msg"] === "slow create started" && l["taskType"] === "slow").length;
  const ok = outcomes.filter((o) => o.code === 0);
  const inFlightAtSignal = outcomes.filter((o) => o.startedAt < signalledAt && o.endedAt >= signalledAt);
  const refused = outcomes.filter((o) => o.code !== 0);
  const byCode = new Map<string, number>();
  for (const o of refused) byCode.set(Code[o.code] ?? String(o.code), (byCode.get(Code[o.code] ?? String(o.code)) ?? 0) + 1);
  console.info(
    [
      `SIGTERM under load (${CLIENT_KINDS.length * 2} clients of ${CLIENT_KINDS.length} kinds, signal after ${LOAD_BEFORE_SIGNAL_MS} ms):`,
      `  calls made: ${outcomes.length}; accepted by the service: ${accepted}; answered OK: ${ok.length}`,
      `  in flight when the signal arrived: ${inFlightAtSignal.length}, of which answered OK: ${inFlightAtSignal.filter((o) => o.code === 0).length}`,
      `  refused after the signal: ${refused.length} (${[...byCode].map(([k, v]) => `${k} ${v}`).join(", ")})`,
      `  exit code ${exit} ${exitedAt - signalledAt} ms after SIGTERM; /readyz while draining: ${ready}; health watch saw ${watched.map((s) => ServingStatus[s]).join(" → ")}`,
    ].join("\n"),
  );

  expect(exit).toBe(0);
  expect(accepted).toBeGreaterThan(20);
  // Every call the service accepted was answered OK, and nothing else was.
  expect(ok.length).toBe(accepted);
  expect(inFlightAtSignal.length).toBeGreaterThan(0);
  // Calls in flight at the signal finished; only calls started after it were refused.
  expect(inFlightAtSignal.every((o) => o.code === 0 || o.startedAt >= signalledAt - 50)).toBe(true);
  expect(refused.every((o) => o.startedAt >= signalledAt - 50)).toBe(true);
  // Refused as "go elsewhere": UNAVAILABLE (drain, GOAWAY, port closed); connect-node's HTTP/1.1 reports a
  // refused or closed connection, and HTTP/2 a stream refused after GOAWAY, as INTERNAL with that error.
  expect(
    refused
      .filter(
        (o) => !(o.code === Code.Unavailable || (o.code === Code.Internal && /ECONNREFUSED|socket hang up|ECONNRESET|EPIPE|REFUSED_STREAM/.test(o.message))),
      )
      .map((o) => `${o.kind}: ${o.message}`),
  ).toEqual([]);
  expect(watched).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  expect(ready).toBe(503);
  expect(lines.some((l) => l["msg"] === "stopped")).toBe(true);
  const scan = scanner.scan();
  console.info(`sigterm: scanned for the planted secret: ${JSON.stringify(scan.scanned)}, hits: ${scan.hits.length}`);
  expect(scan.hits).toEqual([]);
}, 60_000);
