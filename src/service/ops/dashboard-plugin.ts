import { createHash, timingSafeEqual } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { silentLogger, type Logger } from "../../log/logger.js";
import type { RecentTasks } from "./recent-tasks.js";

/** Options of {@link dashboardPlugin}. */
export interface DashboardPluginOptions {
  /** The tasks this service created, listed by the dashboard so a user can pick one. */
  readonly recentTasks: RecentTasks;
  /** Where the built assets are; by default `web-client/dist/dashboard` of this package (`npm run build:web`). */
  readonly assetsDir?: string;
  /**
   * The service's bearer tokens (`Config.authTokens`). When there are any, the recent-tasks route asks for
   * one as the Connect services do: it lists resource metadata, which is the services' data. The page and
   * its assets hold no data and stay open, like health, so that a browser can load the page and ask for a token.
   */
  readonly authTokens?: readonly string[];
  readonly log?: Logger;
}

/** Where the dashboard's files are served from; nothing here can collide with `/flyteidl2.*` or `/grpc.*`. */
export const DASHBOARD_PATHS = Object.freeze({ page: "/", assets: "/dashboard/", recentTasks: "/dashboard/api/recent-tasks" });

// Resolved from this file: three levels below the package root in src/service/ops (tests, tsx) and
// dist/service/ops, two in the CLI bundle (dist/bin). The first that holds a build wins.
const ASSET_DIR_CANDIDATES = ["../../../web-client/dist/dashboard/", "../../web-client/dist/dashboard/"].map((p) => fileURLToPath(new URL(p, import.meta.url)));
const DEFAULT_ASSETS_DIR = ASSET_DIR_CANDIDATES.find((dir) => existsSync(join(dir, "index.html"))) ?? ASSET_DIR_CANDIDATES[0]!;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
};

// The page talks to its own origin only and runs no inline code: a strict policy costs nothing here.
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

interface Asset {
  readonly body: Buffer;
  /**
   * Compressed once, on the first request that accepts gzip: the script is ~250 kB and ~65 kB gzipped.
   * Not at start-up, where level-9 gzip took a sixth of the time to SERVING (docs/benchmarks.md).
   */
  gzip(): Buffer;
  readonly type: string;
  readonly etag: string;
}

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><meta charset="utf-8"><title>flyte-connect</title>
<h1>flyte-connect</h1><p>The dashboard is not built. Run <code>npm run build:web</code>, or start the service with
<code>--no-dashboard</code>. The connector service itself is running.</p></html>`;

/**
 * Serves the status dashboard: the page at `/`, its prebuilt assets under `/dashboard/`, and the recent
 * tasks as JSON. The asset names are listed at registration and each file is read on its first request and
 * kept: they never change while the service runs, and most services never show the page (the script and its
 * source map, read at start-up, were 1.2 MiB of idle memory). Without built assets the service still
 * starts, and `/` says how to build them.
 */
export const dashboardPlugin: FastifyPluginAsync<DashboardPluginOptions> = async (app, options) => {
  const log = options.log ?? silentLogger();
  const assets = listAssets(options.assetsDir ?? DEFAULT_ASSETS_DIR);
  const page = assets.get("index.html");
  if (!page) log.warn({ assetsDir: options.assetsDir ?? DEFAULT_ASSETS_DIR }, "dashboard assets are not built: run npm run build:web");

  app.get(DASHBOARD_PATHS.page, (request, reply) => {
    if (!page) return reply.code(503).headers(PAGE_HEADERS).type(CONTENT_TYPES[".html"]!).send(NOT_BUILT_PAGE);
    return sendAsset(request, reply.headers(PAGE_HEADERS), page());
  });

  const authorized = bearerTokenCheck(options.authTokens ?? []);
  app.get(DASHBOARD_PATHS.recentTasks, (request, reply) => {
    // Changes with every CreateTask: never cached.
    reply.header("cache-control", "no-store");
    if (!authorized(request.headers.authorization)) {
      return reply.code(401).header("www-authenticate", 'Bearer realm="flyte-connect"').send({ error: "missing or invalid bearer token" });
    }
    return reply.send({ tasks: options.recentTasks.list() });
  });

  app.get<{ Params: { file: string } }>(`${DASHBOARD_PATHS.assets}:file`, (request, reply) => {
    // Only names listed at startup are served: no path from the request ever reaches the file system.
    const asset = request.params.file === "index.html" ? undefined : assets.get(request.params.file);
    if (!asset) return reply.code(404).type("text/plain; charset=utf-8").send("not found");
    return sendAsset(request, reply, asset());
  });
};

/**
 * Whether an Authorization header carries one of `tokens`, compared as in src/service/auth.ts: SHA-256
 * digests in constant time against every token. No tokens: everything is allowed.
 */
function bearerTokenCheck(tokens: readonly string[]): (header: string | undefined) => boolean {
  const digest = (token: string) => createHash("sha256").update(token, "utf8").digest();
  const expected = tokens.map(digest);
  return (header) => {
    if (expected.length === 0) return true;
    const match = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(header ?? "");
    if (!match) return false;
    const presented = digest(match[1]!);
    let ok = false;
    for (const e of expected) ok = timingSafeEqual(presented, e) || ok;
    return ok;
  };
}

/** The assets by file name, each read on first use. */
function listAssets(dir: string): ReadonlyMap<string, () => Asset> {
  const assets = new Map<string, () => Asset>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)];
    if (!type) continue;
    let asset: Asset | undefined;
    assets.set(name, () => {
      if (asset) return asset;
      const body = readFileSync(join(dir, name));
      let gzipped: Buffer | undefined;
      const gzip = () => (gzipped ??= gzipSync(body, { level: 9 }));
      asset = { body, gzip, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` };
      return asset;
    });
  }
  return assets;
}

/** Revalidated on every load (no-cache + ETag): a redeployed service never serves a stale page. */
function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply.header("cache-control", "no-cache").header("etag", asset.etag).header("vary", "accept-encoding");
  if (request.headers["if-none-match"] === asset.etag) return reply.code(304).send();
  if (/\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""))) return reply.type(asset.type).header("content-encoding", "gzip").send(asset.gzip());
  return reply.type(asset.type).send(asset.body);
}
