// Prints what the web-client costs a browser app: minified, and minified + gzip -9, dependencies included.
// Run with `node --import tsx web-client/scripts/size.ts`; docs/web-client.md quotes its figures.
import { measureBundleSizes } from "./web-bundles.js";

const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
for (const size of await measureBundleSizes()) {
  process.stdout.write(`${size.name}: ${kB(size.minifiedBytes)} minified, ${kB(size.gzipBytes)} gzip (${size.minifiedBytes} / ${size.gzipBytes} bytes)\n`);
}
