import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";
import { createTestPki, type TestPki } from "../support/certificates.js";
import { closeWaitCount, watchingClient, type WatchingClient } from "../support/half-open.js";
import { eventually } from "../support/raw-clients.js";
import * as grpc from "@grpc/grpc-js";

/**
 * A client that closes its socket with FIN and no GOAWAY (a crashed sidecar, a NAT dropping state, a
 * hostile client) must not leave the server in CLOSE-WAIT: its socket closes, its streams end (health Watch
 * included) and its connection slot is free again. With `--max-connections 50`, 50 such clients used to
 * lock everyone out until the 300 s HTTP/2 idle timeout.
 */
const CLIENTS = 50;
let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});

async function fiftyClientsLeaveWithFin(svc: RunningService, ca?: string): Promise<void> {
  const clients: WatchingClient[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) clients.push(await watchingClient(svc.url, ca === undefined ? {} : { ca }));
    for (const c of clients) c.finWithoutGoaway();
    // Every Watch ends from the server's side, and no server socket waits in CLOSE-WAIT.
    const ended = await Promise.race([
      Promise.all(clients.map((c) => c.ended)).then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5_000)),
    ]);
    expect(ended).toBe(true);
    expect(await eventually(() => closeWaitCount(svc.port) === 0, 5_000)).toBe(true);
    // The slots are free: a new client is served although all 50 slots were taken a moment ago.
    const creds = ca === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(Buffer.from(ca));
    const health = grpcJsClient(Health, `localhost:${svc.port}`, { credentials: creds });
    try {
      expect((await health.check({ service: "" }, { timeoutMs: 5_000 })).status).toBe(ServingStatus.SERVING);
    } finally {
      health.close();
    }
  } finally {
    for (const c of clients) c.destroy();
  }
}

test("h2c: 50 clients that FIN-close without GOAWAY under --max-connections 50 leave nothing behind", async () => {
  const svc = await startService({ config: { maxConnections: CLIENTS, host: "127.0.0.1" } });
  try {
    await fiftyClientsLeaveWithFin(svc);
  } finally {
    await svc.close();
  }
});

test("TLS: the same over HTTP/2 on TLS", async () => {
  const svc = await startService({ config: { maxConnections: CLIENTS, tls: { key: pki.server.key, cert: pki.server.cert } } });
  try {
    await fiftyClientsLeaveWithFin(svc, pki.ca.cert);
  } finally {
    await svc.close();
  }
});
