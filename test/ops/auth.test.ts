import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { AsyncConnectorService, ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { SleepConnector } from "../../src/connectors/demo/sleep-connector.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/health/v1/health_pb.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { PLANTED_SECRET } from "../fixtures/ops-connectors.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import { createTestPki, type TestPki } from "../support/certificates.js";
import { captureLogs } from "../support/log-capture.js";
import { scrape, valueOf } from "../support/prometheus-text.js";
import { createSecretScanner } from "../support/secret-scan.js";

/** The token is the planted secret: it must never show up in anything the service writes. */
const TOKEN = `tok-${PLANTED_SECRET}`;
const logs = captureLogs();
const scanner = createSecretScanner();

/** The code of a failed call, whichever client made it (ConnectError and grpc-js ServiceError both carry `code`). */
async function codeOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 0;
  } catch (e) {
    const err = e as { code?: number; message?: string; details?: string };
    scanner.add("error message", `${err.message ?? ""} ${err.details ?? ""}`);
    return typeof err.code === "number" ? err.code : -1;
  }
}

/** Per-call options that every client kind understands: connect reads `headers`, the grpc-js helper `metadata`. */
const withToken = (token: string | undefined) =>
  token === undefined ? {} : { headers: { authorization: `Bearer ${token}` }, metadata: { authorization: `Bearer ${token}` } };

describe("bearer token auth", () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({
      registry: createConnectorRegistry([new SleepConnector()]),
      config: { authTokens: ["an-older-token-still-valid", TOKEN] },
      log: logs.log,
    });
  });
  afterAll(async () => {
    await svc.close();
  });

  describe.each(CLIENT_KINDS)("over $name", (kind) => {
    test("no token or a wrong one is UNAUTHENTICATED on every service but health; the right one works", async () => {
      const tasks = kind.make(AsyncConnectorService, svc.url);
      const meta = kind.make(ConnectorMetadataService, svc.url);
      const health = kind.make(Health, svc.url);
      try {
        const list = (token?: string) => codeOf(meta.client.listConnectors({}, withToken(token) as never));
        const get = (token?: string) =>
          codeOf(
            tasks.client.getTask(
              { taskCategory: { name: "sleep", version: 0 }, resourceMeta: new TextEncoder().encode('{"seconds": 0, "started_at_ms": 0}') },
              withToken(token) as never,
            ),
          );
        expect(await list()).toBe(Code.Unauthenticated);
        expect(await list("not-the-token-at-all")).toBe(Code.Unauthenticated);
        expect(await list(`${TOKEN}x`)).toBe(Code.Unauthenticated);
        expect(await get()).toBe(Code.Unauthenticated);
        expect(await get(TOKEN.toUpperCase())).toBe(Code.Unauthenticated);
        expect(await list(TOKEN)).toBe(0);
        expect(await get(TOKEN)).toBe(0);
        expect(await get("an-older-token-still-valid")).toBe(0);
        // Probes carry no token.
        const status = await health.client.check({ service: "" });
        expect(status.status).toBe(ServingStatus.SERVING);
      } finally {
        tasks.close();
        meta.close();
        health.close();
      }
    });
  });

  test("Connect answers HTTP 401 with a Bearer challenge; a malformed header is refused too", async () => {
    const post = (authorization?: string) =>
      fetch(`${svc.url}/${ConnectorMetadataService.typeName}/ListConnectors`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: "{}",
      });
    const none = await post();
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="flyte-connect"');
    const body = await none.text();
    scanner.add("error message", body);
    expect(JSON.parse(body)).toMatchObject({ code: "unauthenticated" });
    for (const bad of [`Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}`, `Bearer`, `Bearer ${TOKEN} extra`, TOKEN]) {
      const res = await post(bad);
      scanner.add("error message", await res.text());
      expect(res.status).toBe(401);
    }
    expect((await post(`bearer ${TOKEN}`)).status).toBe(200);
  });

  test("refused calls are counted and logged, without the token", async () => {
    const { text, samples } = await scrape(svc.metricsUrl!);
    scanner.add("metrics exposition", text);
    expect(valueOf(samples, "grpc_server_handled_total", { grpc_code: "Unauthenticated" })).toBeGreaterThanOrEqual(CLIENT_KINDS.length * 5);
    const refused = logs.records().filter((r) => r["msg"] === "rpc" && r["code"] === "unauthenticated");
    expect(refused.length).toBeGreaterThanOrEqual(CLIENT_KINDS.length * 5);
    scanner.add("log line", logs.lines());
    const scan = scanner.scan();
    expect(scan.hits).toEqual([]);
    console.info(`auth: scanned for the planted token: ${JSON.stringify(scan.scanned)}, hits: ${scan.hits.length}`);
  });
});

describe("mutual TLS", () => {
  let pki: TestPki;
  let svc: RunningService;
  beforeAll(async () => {
    pki = createTestPki();
    svc = await startService({
      registry: createConnectorRegistry([new SleepConnector()]),
      config: { tls: { key: pki.server.key, cert: pki.server.cert, clientCa: pki.ca.cert } },
    });
  });
  afterAll(async () => {
    await svc.close();
  });
  const target = () => `localhost:${svc.port}`;
  const grpcJs = (client?: { key: string; cert: string }) =>
    grpcJsClient(Health, target(), {
      credentials: grpc.credentials.createSsl(Buffer.from(pki.ca.cert), client ? Buffer.from(client.key) : null, client ? Buffer.from(client.cert) : null),
    });

  test("grpc-js with a certificate from the configured CA is served", async () => {
    const c = grpcJs(pki.client);
    try {
      expect((await c.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    } finally {
      c.close();
    }
  });

  test("grpc-js with a client certificate from another CA, or none, is refused at the handshake", async () => {
    for (const client of [pki.strangerClient, undefined]) {
      const c = grpcJs(client);
      try {
        const got = await grpcStatusOf(c.check({ service: "" }, { timeoutMs: 3000 }));
        expect(got.code).toBe(grpc.status.UNAVAILABLE);
      } finally {
        c.close();
      }
    }
  });

  test.each([
    [
      "gRPC (h2)",
      (o: object) => createGrpcTransport({ baseUrl: `https://${target()}`, sessionManager: new Http2SessionManager(`https://${target()}`, undefined, o) }),
    ],
    ["gRPC-Web (HTTP/1.1)", (o: object) => createGrpcWebTransport({ baseUrl: `https://${target()}`, httpVersion: "1.1", nodeOptions: o })],
    ["Connect (HTTP/1.1)", (o: object) => createConnectTransport({ baseUrl: `https://${target()}`, httpVersion: "1.1", nodeOptions: o })],
  ])("connect-node %s: own CA served, another CA refused", async (_name, transport) => {
    const ok = createClient(ConnectorMetadataService, transport({ ca: pki.ca.cert, key: pki.client.key, cert: pki.client.cert }));
    expect((await ok.listConnectors({})).connectors.map((c) => c.name)).toEqual(["Sleep Connector"]);
    const stranger = createClient(ConnectorMetadataService, transport({ ca: pki.ca.cert, key: pki.strangerClient.key, cert: pki.strangerClient.cert }));
    const err = await stranger.listConnectors({}).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err).toBeDefined();
    expect([Code.Unavailable, Code.Unknown, Code.Internal, Code.Canceled]).toContain(err!.code);
    console.info(`${_name} with a stranger certificate: ${err!.message}`);
  });

  test("refused clients never reached a handler; readiness stays observable on the cleartext metrics port", async () => {
    const { samples } = await scrape(svc.metricsUrl!);
    // One served ListConnectors per connect-node transport, one served Check from grpc-js: nothing else.
    expect(valueOf(samples, "grpc_server_handled_total", { grpc_method: "ListConnectors" })).toBe(3);
    expect(valueOf(samples, "grpc_server_handled_total", { grpc_method: "Check" })).toBe(1);
    const res = await fetch(svc.metricsUrl!.replace(/\/metrics$/, "/readyz"));
    expect(res.status).toBe(200);
  });
});
