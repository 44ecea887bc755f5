import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health, HealthCheckResponse_ServingStatus as S } from "../../src/gen/health/v1/health_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { curlConnect } from "../helpers/curl.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";
import { createTestPki, type TestPki } from "../support/certificates.js";
import { BUILTIN_CONNECTOR_NAMES } from "../support/builtin-connectors.js";

let pki: TestPki;
let svc: RunningService;
let baseUrl: string;
beforeAll(async () => {
  pki = createTestPki();
  svc = await startService({ config: { tls: { key: pki.server.key, cert: pki.server.cert } } });
  baseUrl = `https://localhost:${svc.port}`;
});
afterAll(async () => {
  await svc.close();
});

const NAMES = BUILTIN_CONNECTOR_NAMES;

test("grpc-js over TLS (ALPN h2), as an executor with insecure: false", async () => {
  const creds = grpc.credentials.createSsl(Buffer.from(pki.ca.cert));
  const meta = grpcJsClient(ConnectorMetadataService, `localhost:${svc.port}`, { credentials: creds });
  const health = grpcJsClient(Health, `localhost:${svc.port}`, { credentials: creds });
  try {
    expect((await meta.listConnectors({})).connectors.map((c) => c.name)).toEqual(NAMES);
    expect((await health.check({ service: "" })).status).toBe(S.SERVING);
  } finally {
    meta.close();
    health.close();
  }
});

test.each([
  ["gRPC over HTTP/2", () => createGrpcTransport({ baseUrl, nodeOptions: { ca: pki.ca.cert } })],
  ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca: pki.ca.cert } })],
  ["gRPC-Web over HTTP/2", () => createGrpcWebTransport({ baseUrl, httpVersion: "2", nodeOptions: { ca: pki.ca.cert } })],
  ["Connect over HTTP/1.1", () => createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca: pki.ca.cert } })],
  ["Connect binary over HTTP/2", () => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, nodeOptions: { ca: pki.ca.cert } })],
])("connect-node %s over TLS", async (_name, transport) => {
  const client = createClient(ConnectorMetadataService, transport());
  expect((await client.listConnectors({})).connectors.map((c) => c.name)).toEqual(NAMES);
});

test.each([
  ["--http1.1", "1.1"],
  ["--http2", "2"],
])("curl %s negotiates by ALPN", async (flag, version) => {
  const res = await curlConnect(baseUrl, "/flyteidl2.connector.ConnectorMetadataService/ListConnectors", {}, [flag, "--cacert", join(pki.dir, "ca.crt")]);
  expect(res.status).toBe(200);
  expect(res.httpVersion).toBe(version);
  expect(JSON.parse(res.body).connectors).toHaveLength(NAMES.length);
});
