import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { CLIENT_KINDS } from "../helpers/clients.js";
import { curl } from "../helpers/curl.js";

// Every answer on the RPC port is in the caller's protocol, also for what no RPC route takes: unknown
// methods and services, content types no protocol uses, HTTP methods other than POST.

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc?.close();
});

/** A service descriptor whose one method the server does not serve, at `/${typeName}/${name}`. */
function unknownMethod(typeName: string, name: string): DescService {
  const real = ConnectorMetadataService.method.listConnectors;
  const service = { ...ConnectorMetadataService, typeName } as DescService;
  const method = { ...real, name, parent: service } as DescMethod;
  return Object.assign(service, { methods: [method], method: { listConnectors: method } });
}

const LIST = "/flyteidl2.connector.ConnectorMetadataService/ListConnectors";

describe.each(CLIENT_KINDS)("$name", (kind) => {
  test.each([
    ["an unknown method of a served service", "flyteidl2.connector.ConnectorMetadataService", "NoSuchMethod"],
    ["a method of an unknown service", "acme.jobs.v1.JobService", "ListJobs"],
  ])("%s is UNIMPLEMENTED (12) naming the method", async (_what, typeName, name) => {
    const { client, close } = kind.make(unknownMethod(typeName, name), svc.url);
    try {
      const err = await (client as unknown as { listConnectors(r: object): Promise<unknown> }).listConnectors({}).then(
        () => undefined,
        (e: unknown) => e as { code: number; message: string },
      );
      expect(err?.code).toBe(12);
      expect(err?.message).toContain(`method ${typeName}/${name} is not served here`);
    } finally {
      close();
    }
  });
});

describe("on the wire", () => {
  test("gRPC: trailers-only, HTTP 200 with grpc-status 12 and a percent-encoded grpc-message", async () => {
    const res = await curl([
      "--http2-prior-knowledge",
      "-X",
      "POST",
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      "--data-binary",
      "",
      `${svc.url}/flyteidl2.connector.AsyncConnectorService/Nope`,
    ]);
    expect(res.status).toBe(200);
    expect(res.headers["grpc-status"]).toBe("12");
    expect(decodeURIComponent(res.headers["grpc-message"]!)).toContain("method flyteidl2.connector.AsyncConnectorService/Nope is not served here");
    expect(res.body).toBe("");
  });

  test("gRPC-Web: HTTP 200 with the status in a trailers frame", async () => {
    const res = await curl([
      "-X",
      "POST",
      "-H",
      "content-type: application/grpc-web+proto",
      "--data-binary",
      "",
      `${svc.url}/flyteidl2.connector.AsyncConnectorService/Nope`,
    ]);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/grpc-web+proto");
    // The frame's first byte is 0x80 (trailers), which the text decoding of the body turns into U+FFFD.
    expect(res.body.slice(5)).toMatch(/^grpc-status: 12\r\ngrpc-message: method flyteidl2.connector.AsyncConnectorService\/Nope is not served here/);
  });

  test("Connect: HTTP 404 with a JSON error unimplemented", async () => {
    const res = await curl(["-X", "POST", "-H", "content-type: application/json", "-d", "{}", `${svc.url}/flyteidl2.connector.AsyncConnectorService/Nope`]);
    expect(res.status).toBe(404);
    const body = JSON.parse(res.body) as { code: string; message: string };
    expect(body.code).toBe("unimplemented");
    expect(body.message).toContain("flyteidl2.connector.AsyncConnectorService/Nope is not served here");
    expect(body.message).toContain("flyteidl2.connector.AsyncConnectorService, flyteidl2.connector.ConnectorMetadataService");
  });

  test("a path that is neither a method nor a page: a Connect 404, not fastify's", async () => {
    const res = await curl([`${svc.url}/no/such/page`]);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ code: "unimplemented", message: expect.stringContaining("GET /no/such/page is not a method or a page") });
  });

  test.each([
    ["no Content-Type", ["-H", "content-type:"], "got no Content-Type"],
    ["text/plain", ["-H", "content-type: text/plain"], 'got Content-Type "text/plain"'],
    ["application/x-www-form-urlencoded (curl -d's default)", ["-H", "content-type: application/x-www-form-urlencoded"], "application/x-www-form-urlencoded"],
  ])("a method called with %s: HTTP 415 with a Connect error that lists the types", async (_what, headers, says) => {
    const res = await curl(["-X", "POST", ...headers, "--data-binary", "{}", `${svc.url}${LIST}`]);
    expect(res.status).toBe(415);
    const body = JSON.parse(res.body) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toContain(says);
    expect(body.message).toContain("send one of application/json, application/proto");
    expect(body.message).toContain('-H "Content-Type: application/json"');
    expect(res.headers["accept-post"]).toContain("application/json");
  });

  test.each(["GET", "PUT", "DELETE"])("a method called with HTTP %s: HTTP 405, Allow: POST, a Connect error that says so", async (method) => {
    const res = await curl(["-X", method, `${svc.url}${LIST}`]);
    expect(res.status).toBe(405);
    expect(res.headers["allow"]).toBe("POST");
    const body = JSON.parse(res.body) as { code: string; message: string };
    expect(body.message).toContain(`${LIST} takes HTTP POST, not ${method}`);
  });

  test("the RPCs themselves still answer", async () => {
    const res = await curl(["-X", "POST", "-H", "content-type: application/json", "-d", "{}", `${svc.url}${LIST}`]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).connectors.length).toBeGreaterThan(0);
  });
});
