import { type FloodOptions, headersFlood } from "./flood.js";

// node --import tsx flood-cli.ts <url> <options as JSON>: prints the flood's result as JSON.
const [url, options] = process.argv.slice(2);
void headersFlood(url!, JSON.parse(options!) as FloodOptions).then((result) => {
  process.stdout.write(JSON.stringify(result));
});
