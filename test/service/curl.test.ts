import { startService, type RunningService } from "../../src/testing/start-service.js";
import { curl, curlConnect } from "../helpers/curl.js";

let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ config: { corsOrigins: ["https://dash.example"] } });
});
afterAll(async () => {
  await svc.close();
});

const META = "/flyteidl2.connector.ConnectorMetadataService";
const TASKS = "/flyteidl2.connector.AsyncConnectorService";

describe("Connect JSON with curl", () => {
  test.each([["--http1.1"], ["--http2-prior-knowledge"]])("the whole lifecycle over %s", async (httpFlag) => {
    const list = await curlConnect(svc.url, `${META}/ListConnectors`, {}, [httpFlag]);
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body)).toEqual({
      connectors: [
        { name: "Sleep Connector", supportedTaskCategories: [{ name: "sleep" }] },
        { name: "Echo Connector", supportedTaskCategories: [{ name: "echo" }] },
        { name: "PostgreSQL Connector", supportedTaskCategories: [{ name: "postgres" }] },
        { name: "HTTP Job Connector", supportedTaskCategories: [{ name: "http_job" }] },
        { name: "Bigquery Connector", supportedTaskCategories: [{ name: "bigquery_query_job_task" }] },
        { name: "Snowflake Connector", supportedTaskCategories: [{ name: "snowflake" }] },
        { name: "Databricks Connector", supportedTaskCategories: [{ name: "databricks" }] },
        { name: "HTTP Call Connector", supportedTaskCategories: [{ name: "http_call" }] },
        { name: "Hash Connector", supportedTaskCategories: [{ name: "hash" }] },
      ],
    });

    const createBody = {
      template: {
        type: "sleep",
        interface: { inputs: { variables: [{ key: "seconds", value: { type: { simple: "FLOAT" } } }] } },
        custom: {},
      },
      inputs: { literals: [{ name: "seconds", value: { scalar: { primitive: { floatValue: 0 } } } }] },
      outputPrefix: "s3://bucket/x/0",
    };
    const created = await curlConnect(svc.url, `${TASKS}/CreateTask`, createBody, [httpFlag]);
    expect(created.status).toBe(200);
    const { resourceMeta } = JSON.parse(created.body) as { resourceMeta: string };
    expect(Buffer.from(resourceMeta, "base64").toString()).toMatch(/^\{"seconds": 0, "started_at_ms": \d+\}$/);

    const got = await curlConnect(svc.url, `${TASKS}/GetTask`, { taskCategory: { name: "sleep" }, resourceMeta }, [httpFlag]);
    expect(JSON.parse(got.body)).toEqual({ resource: { phase: "SUCCEEDED", message: "slept 0 s" } });
    const del = await curlConnect(svc.url, `${TASKS}/DeleteTask`, { taskCategory: { name: "sleep" }, resourceMeta }, [httpFlag]);
    expect([del.status, del.body]).toEqual([200, "{}"]);
  });

  test("errors come back as Connect error JSON with the matching HTTP status", async () => {
    const notFound = await curlConnect(svc.url, `${TASKS}/CreateTask`, { template: { type: "nope" } });
    expect(notFound.status).toBe(404);
    expect(JSON.parse(notFound.body)).toEqual({ code: "not_found", message: "Cannot find connector for task type: nope." });
    const badMeta = await curlConnect(svc.url, `${TASKS}/GetTask`, { taskCategory: { name: "sleep" }, resourceMeta: Buffer.from("{").toString("base64") });
    expect(badMeta.status).toBe(400);
    expect(JSON.parse(badMeta.body).code).toBe("invalid_argument");
    const badJson = await curl(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "{not json", `${svc.url}${TASKS}/GetTask`]);
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body).code).toBe("invalid_argument");
  });
});

describe("CORS", () => {
  test("a preflight from an allowed origin gets the Connect and gRPC-Web headers", async () => {
    const res = await curl([
      "-X",
      "OPTIONS",
      "-H",
      "Origin: https://dash.example",
      "-H",
      "Access-Control-Request-Method: POST",
      "-H",
      "Access-Control-Request-Headers: content-type,connect-protocol-version,x-grpc-web,authorization",
      `${svc.url}${TASKS}/GetTask`,
    ]);
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe("https://dash.example");
    expect(res.headers["access-control-allow-methods"]).toContain("POST");
    expect(res.headers["access-control-allow-headers"]!.toLowerCase()).toEqual(expect.stringContaining("x-grpc-web"));
    expect(res.headers["access-control-allow-headers"]!.toLowerCase()).toEqual(expect.stringContaining("authorization"));
  });

  test("another origin is not allowed", async () => {
    const res = await curl(["-X", "OPTIONS", "-H", "Origin: https://evil.example", "-H", "Access-Control-Request-Method: POST", `${svc.url}${TASKS}/GetTask`]);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  test("an actual cross-origin call exposes grpc-status to the browser", async () => {
    const res = await curlConnect(svc.url, `${META}/ListConnectors`, {}, ["-H", "Origin: https://dash.example"]);
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("https://dash.example");
    expect(res.headers["access-control-expose-headers"]!.toLowerCase()).toContain("grpc-status");
  });
});
