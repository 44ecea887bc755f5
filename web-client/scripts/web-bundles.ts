import { cp, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { WEB_CLIENT_DIR } from "./web-paths.js";

/**
 * What the library leaves to its user's bundler, so that an app with its own copy of connect or protobuf
 * does not carry two. The generated stubs have no package of their own and are bundled in.
 */
export const LIBRARY_EXTERNALS: readonly string[] = ["@connectrpc/connect", "@connectrpc/connect-web", "@bufbuild/protobuf"];

const ENTRY = join(WEB_CLIENT_DIR, "src/index.ts");
const DASHBOARD_DIR = join(WEB_CLIENT_DIR, "src/dashboard");
/** ES2020: BigInt (int64 fields) and async iterators, in every browser of the last years. */
const TARGET = "es2020";

/** Bundles the library to `<outdir>/index.js` (ESM, not minified: the user's bundler minifies). */
export async function bundleClientLibrary(outdir: string): Promise<Metafile> {
  const result = await build({
    entryPoints: { index: ENTRY },
    outdir,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: TARGET,
    external: [...LIBRARY_EXTERNALS],
    sourcemap: true,
    metafile: true,
    logLevel: "warning",
  });
  return result.metafile;
}

/**
 * Builds the dashboard into `outdir`: `index.html`, `dashboard.css` and the minified `dashboard.js` with
 * everything in it. Written beside `outdir` first and then renamed into place, so a running service never
 * reads a half-written folder.
 */
export async function bundleDashboard(outdir: string): Promise<Metafile> {
  const staging = `${outdir}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const result = await build({
    entryPoints: { dashboard: join(DASHBOARD_DIR, "main.ts") },
    outdir: staging,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: TARGET,
    minify: true,
    sourcemap: "linked",
    metafile: true,
    logLevel: "warning",
  });
  await cp(join(DASHBOARD_DIR, "index.html"), join(staging, "index.html"));
  await cp(join(DASHBOARD_DIR, "dashboard.css"), join(staging, "dashboard.css"));
  await rm(outdir, { recursive: true, force: true });
  await rename(staging, outdir);
  return result.metafile;
}

/** One measured bundle: what a browser app that imports these names downloads. */
export interface BundleSize {
  readonly name: string;
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  /** Source files that contributed bytes, relative to the repository root. */
  readonly inputs: readonly string[];
}

/** The imports measured: the whole API, and one small helper to show that the rest shakes off. */
export const SIZE_CASES: readonly { readonly name: string; readonly code: string }[] = [
  { name: "whole API (createConnectorClients and every helper)", code: `export * from ${JSON.stringify(ENTRY)};` },
  { name: "resourceMetaAsJson alone", code: `export { resourceMetaAsJson } from ${JSON.stringify(ENTRY)};` },
];

/**
 * Measures, for each of {@link SIZE_CASES}, the minified bundle with its dependencies (connect, connect-web,
 * protobuf runtime, stubs), as a browser app would ship it, and its size after gzip -9.
 */
export async function measureBundleSizes(): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const c of SIZE_CASES) {
    const result = await build({
      stdin: { contents: c.code, resolveDir: WEB_CLIENT_DIR, loader: "ts" },
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: TARGET,
      minify: true,
      metafile: true,
      logLevel: "warning",
    });
    const code = result.outputFiles[0]!.contents;
    const output = Object.values(result.metafile.outputs)[0]!;
    sizes.push({
      name: c.name,
      minifiedBytes: code.length,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      inputs: Object.entries(output.inputs)
        .filter(([, i]) => i.bytesInOutput > 0)
        .map(([path]) => path),
    });
  }
  return sizes;
}
