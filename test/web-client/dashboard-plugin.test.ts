import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fastify, type FastifyInstance } from "fastify";
import { configFromServeArgs } from "../../src/cli/serve-command.js";
import { ConfigError, parseConfig } from "../../src/config/config.js";
import { dashboardPlugin } from "../../src/service/ops/dashboard-plugin.js";
import { createRecentTasks, type RecentTask } from "../../src/service/ops/recent-tasks.js";
import { startService } from "../../src/testing/start-service.js";
import { createConnectorClients } from "../../web-client/src/index.js";
import { createTaskRequest, FLOAT, floatLiteral } from "../support/tasks.js";

const SECRET = "s3cr3t-value-never-shown";

describe("recent tasks", () => {
  test("keep the newest `capacity` tasks, newest first, and nothing of the connection", () => {
    const recent = createRecentTasks(2);
    const meta = (n: number) => new TextEncoder().encode(`{"n": ${n}}`);
    for (const n of [1, 2, 3]) {
      recent.record(
        createTaskRequest({ type: `t${n}`, version: n, secrets: { key: SECRET }, configs: { region: SECRET } }),
        meta(n),
        new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
      );
    }
    const list = recent.list();
    expect(list).toEqual<RecentTask[]>([
      {
        taskCategory: { name: "t3", version: 3 },
        resourceMetaBase64: Buffer.from(meta(3)).toString("base64"),
        taskName: "test.t3",
        executionName: "run-1",
        nodeId: "a0",
        retryAttempt: 0,
        createdAt: "2026-01-01T00:00:03.000Z",
      },
      {
        taskCategory: { name: "t2", version: 2 },
        resourceMetaBase64: Buffer.from(meta(2)).toString("base64"),
        taskName: "test.t2",
        executionName: "run-1",
        nodeId: "a0",
        retryAttempt: 0,
        createdAt: "2026-01-01T00:00:02.000Z",
      },
    ]);
    expect(JSON.stringify(list)).not.toContain(SECRET);
    // The list handed out is a copy: callers cannot change what the service keeps.
    (list as RecentTask[]).length = 0;
    expect(recent.list()).toHaveLength(2);
  });

  test("capacity must be a positive integer", () => {
    expect(() => createRecentTasks(0)).toThrow(RangeError);
    expect(() => createRecentTasks(1.5)).toThrow(RangeError);
  });
});

describe("config", () => {
  test("dashboard defaults to on and must be a boolean", () => {
    expect(parseConfig().dashboard).toBe(true);
    expect(parseConfig({ dashboard: false }).dashboard).toBe(false);
    expect(() => parseConfig({ dashboard: "no" as never })).toThrow(ConfigError);
    expect(() => parseConfig({ dashboard: "no" as never })).toThrow(/dashboard must be true or false/);
  });

  test("serve turns it off with --no-dashboard or FLYTE_CONNECT_DASHBOARD=false", () => {
    expect(configFromServeArgs([], { env: {} }).dashboard).toBe(true);
    expect(configFromServeArgs(["--no-dashboard"], { env: {} }).dashboard).toBe(false);
    expect(configFromServeArgs([], { env: { FLYTE_CONNECT_DASHBOARD: "false" } }).dashboard).toBe(false);
  });
});

/** Listens on a free loopback port; fastify's inject() cannot load under jest, and real sockets are the rule here. */
async function listening(
  app: FastifyInstance,
): Promise<(url: string, headers?: Record<string, string>) => Promise<{ status: number; headers: Headers; body: string }>> {
  const base = await app.listen({ host: "127.0.0.1", port: 0 });
  return async (url, headers) => {
    const r = await fetch(`${base}${url}`, { headers });
    return { status: r.status, headers: r.headers, body: await r.text() };
  };
}

describe("dashboard plugin", () => {
  let dir: string;
  let app: FastifyInstance;
  let get: Awaited<ReturnType<typeof listening>>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "fc-dash-"));
    writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(path.join(dir, "dashboard.js"), "console.log(1)");
    writeFileSync(path.join(dir, "notes.txt"), "not an asset type");
    mkdirSync(path.join(dir, "sub"));
    app = fastify();
    await app.register(dashboardPlugin, { recentTasks: createRecentTasks(), assetsDir: dir });
    get = await listening(app);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("serves the page at / with a strict content security policy, revalidated by ETag", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(page.body).toBe("<!doctype html><title>t</title>");
    const again = await get("/", { "if-none-match": page.headers.get("etag")! });
    expect(again.status).toBe(304);
    expect(again.body).toBe("");
  });

  test("serves only the assets read at startup", async () => {
    // fetch asks for gzip and undoes it, so the body reads the same either way.
    const js = await get("/dashboard/dashboard.js");
    expect([js.status, js.headers.get("content-type"), js.headers.get("content-encoding"), js.body]).toEqual([
      200,
      "text/javascript; charset=utf-8",
      "gzip",
      "console.log(1)",
    ]);
    const plain = await get("/dashboard/dashboard.js", { "accept-encoding": "identity" });
    expect([plain.headers.get("content-encoding"), plain.body]).toEqual([null, "console.log(1)"]);
    for (const url of ["/dashboard/notes.txt", "/dashboard/index.html", "/dashboard/..%2Fpackage.json", "/dashboard/sub", "/dashboard/missing.js"]) {
      expect([url, (await get(url)).status]).toEqual([url, 404]);
    }
  });

  test("with bearer tokens, the recent tasks ask for one; the page and its assets stay open", async () => {
    const guarded = fastify();
    await guarded.register(dashboardPlugin, { recentTasks: createRecentTasks(), assetsDir: dir, authTokens: ["tok-1", "tok-2"] });
    const get = await listening(guarded);
    try {
      expect((await get("/")).status).toBe(200);
      expect((await get("/dashboard/dashboard.js")).status).toBe(200);
      const refused = await get("/dashboard/api/recent-tasks");
      expect([refused.status, refused.headers.get("www-authenticate")]).toEqual([401, 'Bearer realm="flyte-connect"']);
      for (const authorization of ["Bearer tok-3", "tok-1", "Basic dG9rLTE6", "Bearer tok-1 extra"]) {
        expect([authorization, (await get("/dashboard/api/recent-tasks", { authorization })).status]).toEqual([authorization, 401]);
      }
      for (const authorization of ["Bearer tok-1", "bearer tok-2"]) {
        const ok = await get("/dashboard/api/recent-tasks", { authorization });
        expect([ok.status, JSON.parse(ok.body)]).toEqual([200, { tasks: [] }]);
      }
    } finally {
      await guarded.close();
    }
  });

  test("without built assets, / says how to build them and the service still starts", async () => {
    const bare = fastify();
    await bare.register(dashboardPlugin, { recentTasks: createRecentTasks(), assetsDir: path.join(dir, "does-not-exist") });
    const page = await (await listening(bare))("/");
    expect(page.status).toBe(503);
    expect(page.body).toContain("npm run build:web");
    expect(page.body).toContain("--no-dashboard");
    await bare.close();
  });
});

describe("dashboard routes of the real service", () => {
  test("recent tasks list what CreateTask made, without connection secrets", async () => {
    const svc = await startService();
    try {
      const clients = createConnectorClients({ baseUrl: svc.url });
      const { resourceMeta } = await clients.tasks.createTask(
        createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0.1) } }, secrets: { token: SECRET } }),
      );
      // A failed CreateTask is not a task: it is not listed.
      await expect(clients.tasks.createTask(createTaskRequest({ type: "no_such_type" }))).rejects.toThrow();
      const response = await fetch(`${svc.url}/dashboard/api/recent-tasks`);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const text = await response.text();
      expect(text).not.toContain(SECRET);
      const { tasks } = JSON.parse(text) as { tasks: RecentTask[] };
      expect(tasks).toEqual([
        expect.objectContaining({
          taskCategory: { name: "sleep", version: 0 },
          resourceMetaBase64: Buffer.from(resourceMeta).toString("base64"),
          executionName: "run-1",
        }),
      ]);
    } finally {
      await svc.close();
    }
  });

  test("the service hands its bearer tokens to the dashboard's recent tasks", async () => {
    const svc = await startService({ config: { authTokens: ["svc-token-0123456789"] } });
    try {
      expect((await fetch(`${svc.url}/dashboard/api/recent-tasks`)).status).toBe(401);
      expect((await fetch(`${svc.url}/dashboard/api/recent-tasks`, { headers: { authorization: "Bearer svc-token-0123456789" } })).status).toBe(200);
    } finally {
      await svc.close();
    }
  });

  test("dashboard: false serves none of it, and the connector services as before", async () => {
    const svc = await startService({ config: { dashboard: false } });
    try {
      for (const route of ["/", "/dashboard/dashboard.js", "/dashboard/api/recent-tasks"]) {
        expect([route, (await fetch(`${svc.url}${route}`)).status]).toEqual([route, 404]);
      }
      expect(await createConnectorClients({ baseUrl: svc.url }).servingStatus()).toBe("SERVING");
    } finally {
      await svc.close();
    }
  });
});
