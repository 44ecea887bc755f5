// `npm run build:web`: the web-client library (dist/index.js + dist/types) and the dashboard the service serves
// (dist/dashboard). Run with `node --import tsx web-client/scripts/build.ts`.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { emitClientTypes } from "./client-types.js";
import { bundleClientLibrary, bundleDashboard } from "./web-bundles.js";
import { WEB_DIST_DIR } from "./web-paths.js";

await rm(join(WEB_DIST_DIR, "index.js"), { force: true });
await rm(join(WEB_DIST_DIR, "types"), { recursive: true, force: true });
await bundleClientLibrary(WEB_DIST_DIR);
emitClientTypes(join(WEB_DIST_DIR, "types"));
await bundleDashboard(join(WEB_DIST_DIR, "dashboard"));
process.stdout.write(`web-client and dashboard built into ${WEB_DIST_DIR}\n`);
