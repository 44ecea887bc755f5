import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { builtinConnectors } from "../../src/connectors/builtins.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { createConnectorClients } from "../../web-client/src/index.js";
import { bundleDashboard } from "../../web-client/scripts/web-bundles.js";
import { WEB_DIST_DIR } from "../../web-client/scripts/web-paths.js";
import { createTaskRequest, FLOAT, floatLiteral } from "../support/tasks.js";
import { LinkedSleepConnector } from "./fixtures/linked-sleep-connector.js";
import { artifactPath, describeWithChromium, launchChromium } from "./helpers/chromium.js";
import { selfSignedCert } from "./helpers/self-signed-cert.js";

const SECRET = "s3cr3t-connection-value";

describeWithChromium("dashboard served by the service, in Chromium", () => {
  let svc: RunningService;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // The very build `npm run build:web` runs, into the folder the service serves by default.
    await bundleDashboard(path.join(WEB_DIST_DIR, "dashboard"));
    svc = await startService({ registry: createConnectorRegistry([...builtinConnectors(), new LinkedSleepConnector()]) });
    browser = await launchChromium({ ignoreCertificateErrors: true });
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  });
  afterEach(async () => {
    if (!page.isClosed()) await page.close();
  });

  const phase = () => page.locator("#task-phase");
  const logLines = async () => (await page.locator("#task-logs li").allTextContents()).map((t) => t.replace(/^.*?(?=second|done)/, ""));

  test("shows the service's health and the connectors with their task categories", async () => {
    await page.goto(`${svc.url}/`);
    await page.getByRole("status").filter({ hasText: "Service: SERVING" }).waitFor();
    const rows = await page.locator("#connectors tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent)));
    expect(rows).toEqual([
      ["Sleep Connector", "sleep / 0"],
      ["Echo Connector", "echo / 0"],
      ["PostgreSQL Connector", "postgres / 0"],
      ["HTTP Job Connector", "http_job / 0"],
      ["Bigquery Connector", "bigquery_query_job_task / 0"],
      ["Snowflake Connector", "snowflake / 0"],
      ["Databricks Connector", "databricks / 0"],
      ["HTTP Call Connector", "http_call / 0"],
      ["Hash Connector", "hash / 0"],
      ["Linked Sleep Connector", "linked_sleep / 0"],
    ]);
    expect(await page.getByRole("heading", { level: 2 }).allTextContents()).toEqual(["Connectors", "Recent tasks", "Task"]);
    await page.screenshot({ path: artifactPath("dashboard-overview.png"), fullPage: true });
  });

  test("a task the service ran is listed; picking it shows its phase, message, log links and logs streaming in", async () => {
    const clients = createConnectorClients({ baseUrl: svc.url });
    await clients.tasks.createTask(
      createTaskRequest({ type: "linked_sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(4) } }, secrets: { api_key: SECRET } }),
    );
    await page.goto(`${svc.url}/`);
    await page.getByRole("button", { name: /^linked_sleep \/ 0 · run-1 \/ a0 · / }).click();

    // While it runs, the first lines arrive before the task is done.
    await page.waitForFunction(() => document.getElementById("task-phase")?.textContent === "RUNNING" && document.querySelectorAll("#task-logs li").length > 0);
    expect((await logLines())[0]).toBe("second 1 of 4");
    await page.screenshot({ path: artifactPath("dashboard-task-running.png"), fullPage: true });

    await page.locator("#task[data-state=done]").waitFor({ timeout: 15_000 });
    expect(await phase().textContent()).toBe("SUCCEEDED (final)");
    expect(await page.locator("#task-message").textContent()).toBe("slept 4 s");
    const link = page.getByRole("link", { name: "Sleep console" });
    expect(await link.getAttribute("href")).toMatch(/^https:\/\/console\.example\/sleep\/\d+$/);
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await logLines()).toEqual(["second 1 of 4", "second 2 of 4", "second 3 of 4", "second 4 of 4", "done after 4 s"]);
    expect(JSON.parse((await page.locator("#task-meta-json").textContent()) ?? "")).toEqual({ seconds: 4, started_at_ms: expect.any(Number) });
    // The view can be reloaded or shared: the address names the task.
    expect(new URL(page.url()).hash).toMatch(/^#type=linked_sleep&version=0&meta=/);
    // Connection secrets of CreateTask never reach the dashboard.
    expect(await page.content()).not.toContain(SECRET);
    await page.screenshot({ path: artifactPath("dashboard-task.png"), fullPage: true });
  });

  test("an unknown task type is shown to the user as NotFound", async () => {
    await page.goto(`${svc.url}/`);
    await page.getByLabel("Task type").fill("no_such_type");
    await page.getByLabel(/^Resource metadata/).fill('{"seconds": 1}');
    await page.getByRole("button", { name: "Follow task" }).click();
    await page.locator("#task[data-state=error]").waitFor();
    expect(await page.locator("#task-error").textContent()).toMatch(/^NotFound: .*no_such_type/);
    expect(await page.locator("#task-error").getAttribute("role")).toBe("alert");
    await page.screenshot({ path: artifactPath("dashboard-error.png"), fullPage: true });
  });

  test("resource metadata pasted as base64 (CreateTask's JSON answer), as JSON, or as base64:… follows the task", async () => {
    const clients = createConnectorClients({ baseUrl: svc.url });
    const { resourceMeta } = await clients.tasks.createTask(
      createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(0) } } }),
    );
    const base64 = Buffer.from(resourceMeta).toString("base64");
    for (const pasted of [base64, Buffer.from(resourceMeta).toString("utf8"), `base64:${base64}`]) {
      await page.goto(`${svc.url}/`);
      await page.getByLabel("Task type").fill("sleep");
      await page.getByLabel(/^Resource metadata/).fill(pasted);
      await page.getByRole("button", { name: "Follow task" }).click();
      await page.locator("#task[data-state=done]").waitFor();
      expect(await phase().textContent()).toBe("SUCCEEDED (final)");
      expect(JSON.parse((await page.locator("#task-meta-json").textContent()) ?? "")).toEqual({ seconds: 0, started_at_ms: expect.any(Number) });
    }
  });

  test("resource metadata it cannot decode: the page says which forms it takes and calls nothing", async () => {
    const calls: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("AsyncConnectorService")) calls.push(r.url());
    });
    await page.goto(`${svc.url}/`);
    await page.getByLabel("Task type").fill("sleep");
    await page.getByLabel(/^Resource metadata/).fill('{"seconds": 1,');
    await page.getByRole("button", { name: "Follow task" }).click();
    await page.locator("#task-error").filter({ hasText: "looks like JSON but does not parse" }).waitFor();
    const text = (await page.locator("#task-error").textContent()) ?? "";
    expect(text).toContain("paste the resourceMeta CreateTask returned over JSON (base64");
    expect(text).toContain("the metadata as JSON text");
    expect(text).toContain("base64:<data>");
    await page.getByLabel(/^Resource metadata/).fill("not base64 or JSON!");
    await page.getByRole("button", { name: "Follow task" }).click();
    await page.locator("#task-error").filter({ hasText: "is neither JSON nor base64" }).waitFor();
    expect(calls).toEqual([]);
  });

  test("over gRPC-Web, a link naming a task opens it; a connector without logs says so", async () => {
    const clients = createConnectorClients({ baseUrl: svc.url, protocol: "grpc-web" });
    const { resourceMeta } = await clients.tasks.createTask(createTaskRequest({ type: "echo" }));
    const hash = new URLSearchParams({ type: "echo", version: "0", meta: new TextDecoder().decode(resourceMeta) });
    const grpcWebCalls: string[] = [];
    page.on("request", (r) => {
      if (r.headers()["content-type"]?.startsWith("application/grpc-web")) grpcWebCalls.push(new URL(r.url()).pathname);
    });
    await page.goto(`${svc.url}/?protocol=grpc-web#${hash}`);
    await page.locator("#task[data-state=done]").waitFor();
    expect(await phase().textContent()).toBe("SUCCEEDED (final)");
    expect(await page.locator("#task-logs-note").textContent()).toBe("This connector does not provide logs.");
    expect(grpcWebCalls).toEqual(
      expect.arrayContaining(["/flyteidl2.connector.AsyncConnectorService/GetTask", "/flyteidl2.connector.AsyncConnectorService/GetTaskLogs"]),
    );
  });

  test("with bearer auth on, the page asks for the token, then shows what it protects", async () => {
    const guarded = await startService({ config: { authTokens: ["dash-token-0123456789"] } });
    try {
      await createConnectorClients({ baseUrl: guarded.url, headers: { Authorization: "Bearer dash-token-0123456789" } }).tasks.createTask(
        createTaskRequest({ type: "echo" }),
      );
      await page.goto(`${guarded.url}/`);
      // Health stays open, as for Kubernetes probes; the rest answers Unauthenticated.
      await page.getByRole("status").filter({ hasText: "Service: SERVING" }).waitFor();
      await page.locator("#connectors-error", { hasText: "Unauthenticated" }).waitFor();
      await page.locator("#recent", { hasText: "asks for a bearer token" }).waitFor();
      await page.screenshot({ path: artifactPath("dashboard-auth-required.png"), fullPage: true });

      await page.getByLabel("Bearer token").fill("dash-token-0123456789");
      await page.getByLabel("Bearer token").press("Enter");
      await page.locator("#connectors tbody tr", { hasText: "Echo Connector" }).waitFor();
      expect(await page.locator("#connectors-error").textContent()).toBe("");
      await page.getByRole("button", { name: /^echo \/ 0 · / }).click();
      await page.locator("#task[data-state=done]").waitFor();
      expect(await phase().textContent()).toBe("SUCCEEDED (final)");
    } finally {
      await page.close();
      await guarded.close();
    }
  });

  test("served over TLS too", async () => {
    const tls = await startService({ config: { tls: selfSignedCert() } });
    try {
      expect(tls.url).toMatch(/^https:/);
      await page.goto(`${tls.url}/`);
      await page.getByRole("status").filter({ hasText: "Service: SERVING" }).waitFor();
      await page.locator("#connectors tbody tr", { hasText: "Echo Connector" }).waitFor();
      await page.screenshot({ path: artifactPath("dashboard-tls.png"), fullPage: true });
    } finally {
      // Chromium keeps its HTTP/2 session open; closing the page first lets the service stop without waiting.
      await page.close();
      await tls.close();
    }
  });
});
