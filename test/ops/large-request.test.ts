import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as http from "node:http";
import { create, toBinary } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { createTaskRequest, STRING, stringLiteral } from "../support/tasks.js";
import { scrape } from "../support/prometheus-text.js";
import { grpcFrame } from "../support/raw-clients.js";

/**
 * Large bodies are admitted a few at a time: with `maxConcurrentLargeRequests` 1, a second large request
 * while one is being read is refused with RESOURCE_EXHAUSTED in its own protocol before it is read, small
 * calls are unaffected, and the slot comes back when the first call ends.
 */
const MiB = 1024 * 1024;
let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ config: { maxConcurrentLargeRequests: 1, largeRequestBytes: MiB, maxMessageBytes: 16 * MiB } });
});
afterAll(async () => {
  await svc.close();
});

const CREATE = `/${AsyncConnectorService.typeName}/CreateTask`;
/** A valid echo CreateTask of about `bytes` bytes (one large string input). */
const OUTPUTS = mkdtempSync(join(tmpdir(), "fc-large-outputs-"));
afterAll(() => rmSync(OUTPUTS, { recursive: true, force: true }));

function echoCreate(bytes: number): Uint8Array<ArrayBuffer> {
  // echo writes outputs above 16 KiB under the output prefix: a local folder, so no object store is needed.
  const req = createTaskRequest({
    type: "echo",
    inputs: { s: { type: STRING, literal: stringLiteral("x".repeat(bytes)) } },
    outputs: { s: STRING },
    outputPrefix: join(OUTPUTS, `task-${bytes}-${Math.random().toString(36).slice(2)}`),
  });
  return new Uint8Array(toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, req)));
}

/** A large Connect request whose body arrives only in part: it holds its slot until destroyed. */
function heldUpload(): Promise<{ destroy(): void }> {
  return new Promise((resolve) => {
    const url = new URL(svc.url);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: "POST",
      path: CREATE,
      headers: { "content-type": "application/proto", "content-length": String(4 * MiB) },
    });
    req.on("error", () => {});
    req.write(Buffer.alloc(MiB), () => setTimeout(() => resolve({ destroy: () => req.destroy() }), 200));
  });
}

test("a second large request is refused before it is read; small calls and the next large one go through", async () => {
  const held = await heldUpload();
  try {
    const connect = await fetch(`${svc.url}${CREATE}`, { method: "POST", headers: { "content-type": "application/proto" }, body: echoCreate(2 * MiB) });
    expect(connect.status).toBe(429);
    expect(await connect.json()).toMatchObject({ code: "resource_exhausted" });
    const web = await fetch(`${svc.url}${CREATE}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: new Uint8Array(grpcFrame(echoCreate(2 * MiB))),
    });
    expect(web.headers.get("grpc-status")).toBe("8");
    // A small call is not a large one: it is served while the slot is taken.
    const small = await fetch(`${svc.url}${CREATE}`, { method: "POST", headers: { "content-type": "application/proto" }, body: echoCreate(10) });
    expect(small.status).toBe(200);
  } finally {
    held.destroy();
  }
  // The slot comes back once the held call is gone.
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = (await fetch(`${svc.url}${CREATE}`, { method: "POST", headers: { "content-type": "application/proto" }, body: echoCreate(2 * MiB) })).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  expect(status).toBe(200);
  const { text } = await scrape(svc.metricsUrl!);
  // Two refusals above, and maybe a retry that came before the server saw the held upload go.
  const refused = Number(/flyte_connect_calls_shed_total\{reason="large_requests"\} (\d+)/.exec(text)?.[1]);
  expect(refused).toBeGreaterThanOrEqual(2);
});
