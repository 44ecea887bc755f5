import { readFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { PROTOCOLS, type Protocol } from "../../web-client/src/index.js";
import { artifactPath, describeWithChromium, launchChromium } from "./helpers/chromium.js";
import { selfSignedCert } from "./helpers/self-signed-cert.js";
import { serveFiles } from "./helpers/serve-files.js";
import type { ClientScenarioResult } from "./page/client-page.js";
import { BUILTIN_CONNECTOR_NAMES } from "../support/builtin-connectors.js";

describeWithChromium("web-client in Chromium, from a page on another origin", () => {
  let pageServer: Awaited<ReturnType<typeof serveFiles>>;
  let browser: Browser;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [path.join(__dirname, "page/client-page.ts")],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: "es2020",
      logLevel: "warning",
    });
    pageServer = await serveFiles({
      "/": { body: readFileSync(path.join(__dirname, "page/client-page.html")), type: "text/html; charset=utf-8" },
      "/page.js": { body: bundle.outputFiles[0]!.contents, type: "text/javascript; charset=utf-8" },
    });
    browser = await launchChromium({ ignoreCertificateErrors: true });
  });
  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
  });

  /** Loads the page, runs the scenario against `apiUrl`, keeps a screenshot, returns what the page saw and showed. */
  async function runPage(apiUrl: string, protocol: Protocol, screenshot: string): Promise<{ result: ClientScenarioResult; alert: string }> {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    try {
      await page.goto(`${pageServer.origin}/`);
      const result = await page.evaluate(([url, p]) => window.runClientScenario(url, p), [apiUrl, protocol] as const);
      const alert = (await page.getByRole("alert").textContent()) ?? "";
      await page.screenshot({ path: artifactPath(screenshot), fullPage: true });
      return { result, alert };
    } finally {
      await page.close();
    }
  }

  function expectWholeScenario({ result, alert }: { result: ClientScenarioResult; alert: string }): void {
    expect(result.failure).toBeUndefined();
    expect(result.connectors).toEqual(BUILTIN_CONNECTOR_NAMES);
    expect(result.phases[0]).toBe("RUNNING");
    expect(result.phases.at(-1)).toBe("SUCCEEDED");
    // Server-streaming GetTaskLogs, one line per page: two streams, each read to its end.
    expect(result.logLines).toEqual(["second 1 of 1.1", "done after 1.1 s"]);
    expect(result.shownError).toEqual({ code: "NotFound", message: expect.stringContaining("no_such_type") });
    expect(alert).toMatch(/^NotFound: .*no_such_type/);
  }

  describe("cleartext HTTP/1.1, CORS allowing the page's origin", () => {
    let svc: RunningService;
    beforeAll(async () => {
      svc = await startService({ config: { corsOrigins: [pageServer.origin] } });
    });
    afterAll(() => svc?.close());

    test.each(PROTOCOLS)("the whole scenario over %s", async (protocol) => {
      expect(new URL(svc.url).origin).not.toBe(pageServer.origin);
      expectWholeScenario(await runPage(svc.url, protocol, `client-page-${protocol}.png`));
    });
  });

  describe("TLS (self-signed, ALPN h2 and http/1.1), CORS allowing the page's origin", () => {
    let svc: RunningService;
    beforeAll(async () => {
      svc = await startService({ config: { corsOrigins: [pageServer.origin], tls: selfSignedCert() } });
    });
    afterAll(() => svc?.close());

    test.each(PROTOCOLS)("the whole scenario over %s", async (protocol) => {
      expect(svc.url).toMatch(/^https:\/\//);
      expectWholeScenario(await runPage(svc.url, protocol, `client-page-tls-${protocol}.png`));
    });
  });

  test("a service that does not allow the page's origin is refused by the browser, and the page says so", async () => {
    const svc = await startService({ config: { corsOrigins: ["https://dashboard.example"] } });
    try {
      const { result, alert } = await runPage(svc.url, "connect-json", "client-page-cors-refused.png");
      expect(result.connectors).toEqual([]);
      expect(result.failure?.step).toBe("ListConnectors");
      // fetch rejects without detail on a CORS refusal; connect-web reports it as a failed fetch.
      expect(result.failure?.message).toMatch(/fetch/i);
      expect(alert).toMatch(/^ListConnectors failed: /);
    } finally {
      await svc.close();
    }
  });
});
