// Bundles the CLI into one ES module, dist/bin/flyte-connect.mjs, which `npm start` and the package's bin
// run. Loading one file instead of some 600 modules halves the time from exec to SERVING (docs/benchmarks.md).
// What is imported dynamically — the drivers and clients a connector loads on its first task (pg,
// google-auth-library) — goes into dist/bin/chunks/ instead, so that a service that never runs such a task
// neither parses nor keeps that code: the BigQuery, Snowflake and Databricks built-ins cost no start-up time.
// The library entry points (dist/index.js, dist/server.js, dist/testing.js) stay unbundled.
//
// The cloud storage SDKs (3.5 MB of code) stay outside the bundle by default: the npm package depends on them,
// so its CLI loads them from node_modules, and the tarball does not carry them twice. The image has no
// node_modules: its build sets FLYTE_CONNECT_BUNDLE_STORAGE_SDKS=1 and they become chunks too (deploy/Dockerfile).
import { build } from "esbuild";

const STORAGE_SDKS = ["@aws-sdk/client-s3", "@google-cloud/storage", "@azure/storage-blob", "@azure/identity"];
const bundleStorageSdks = process.env.FLYTE_CONNECT_BUNDLE_STORAGE_SDKS === "1";

await build({
  // The large-request worker thread's entry (src/service/large-calls/large-call-worker.ts) shares the chunks.
  entryPoints: { "flyte-connect": "src/cli/main.ts", "flyte-connect-worker": "src/service/large-calls/worker-main.ts" },
  // Tests bundle into a directory of their own, so that nothing shared is touched.
  outdir: process.env.FLYTE_CONNECT_BUNDLE_DIR ?? "dist/bin",
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  // Less text to parse and keep: 2.6 → 1.8 MB, about 3.5 MiB less idle RSS and a faster start. Names are
  // kept, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  // pg's optional native binding is never installed; pg falls back to its JavaScript client.
  external: ["pg-native", ...(bundleStorageSdks ? [] : STORAGE_SDKS)],
  // Bundled CommonJS dependencies call require(); give them one in the ES module scope.
  banner: { js: "import { createRequire as __fcCreateRequire } from 'node:module'; const require = __fcCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
