#!/usr/bin/env node
import { CodedError } from "../errors/coded-error.js";
import { initCommand } from "./init-command.js";
import { runCommand } from "./run-command.js";
import { serveCommand } from "./serve-command.js";

const USAGE = `Usage: flyte-connect <command> [options]

Commands:
  serve   serve connectors to the Flyte executor, dashboards and scripts
  run     run one task through a connector locally, without a Flyte cluster
  init    create a connector project: flyte-connect init <dir>

Run "flyte-connect <command> --help" for a command's options.
`;

/** Runs the CLI and returns the exit code. The only place that decides exit codes. */
async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serveCommand(rest);
    case "run":
      return runCommand(rest);
    case "init":
      return initCommand(rest);
    case undefined:
    case "-h":
    case "--help":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`flyte-connect: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Usage and configuration problems are the user's to fix: say what, without a stack trace.
    const usageProblem = e instanceof CodedError || (e instanceof Error && "code" in e && typeof e.code === "string" && e.code.startsWith("ERR_PARSE_ARGS"));
    if (usageProblem) {
      process.stderr.write(`flyte-connect: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`flyte-connect: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
