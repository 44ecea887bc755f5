import { type HostileOptions, runHostileClient } from "./hostile-client.js";

// node --import tsx hostile-cli.ts <url> <options as JSON>: prints a line when it starts, then its result as JSON.
const [url, options] = process.argv.slice(2);
void runHostileClient(url!, JSON.parse(options!) as HostileOptions, () => process.stdout.write("started\n")).then((result) => {
  process.stdout.write(JSON.stringify(result));
});
