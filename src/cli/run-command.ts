import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { LogLink } from "../connectors/connector.js";
import { builtinConnectors } from "../connectors/builtins.js";
import { createLogger, type LogLevel } from "../log/logger.js";
import { createConnectorRegistry } from "../registry/connector-registry.js";
import { ConnectorNotFoundError } from "../registry/errors.js";
import { declaredInputTypes } from "../literals/define-interface.js";
import { LiteralError } from "../literals/errors.js";
import { localTaskFrom } from "../runner/local-task.js";
import { printableJson } from "../runner/printable-json.js";
import { runConnector, type RunProgress, type RunResult } from "../runner/run-connector.js";
import { loadConnectorModules } from "../registry/load-modules.js";

export const RUN_USAGE = `Usage: flyte-connect run --task-type <type> [options]

Runs one task through a registered connector, end to end, without a Flyte cluster: create, poll with
backoff until the job ends, print the outputs as JSON. Ctrl-C deletes the job before exiting.

Options:
  -t, --task-type <type>        the task type (TaskTemplate.type), such as postgres or http_job
  --task-version <n>            the task type version (default 0)
  --custom <json|@file>         TaskTemplate.custom: the task's own configuration
  --inputs <json|@file>         input values, such as '{"n": 3, "name": "x"}'
  --input-types <json|@file>    input types where the value does not say: '{"when": "datetime"}'
  --outputs <json|@file>        output types: '{"rows": "list[dict]", "n": "int"}'
  --template <file>             a whole TaskTemplate in proto-JSON; the options above override it
  --config <key=value>          a connection config; repeat (custom["configs"] is read too)
  --secret <key=ENV_VAR>        a connection secret read from an environment variable; repeat
                                (custom["secrets"] {key: NAME} reads NAME from the environment too)
  --modules <spec>              file or package exporting "connectors"; repeat or separate with commas
  --no-builtins                 do not register the built-in connectors
  --timeout <duration>          give up (and delete the job) after this long: 90s, 5m, 1h
  --poll-interval <duration>    first wait between polls (default 1s); it grows to --max-poll-interval
  --max-poll-interval <duration> longest wait between polls (default 10s)
  --json                        print the whole result as JSON, not just the outputs
  --log-level <level>           connector log lines on stderr (default warn)
  -h, --help                    show this help

Exit codes: 0 succeeded, 1 the job failed or was aborted, 2 usage error, 124 timed out, 130 interrupted.
`;

/** Where a run's text goes and where its interrupts come from; the process's by default. */
export interface RunCommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Calls `handler` on Ctrl-C (and SIGTERM); returns a function that stops listening. */
  readonly onInterrupt: (handler: () => void) => () => void;
}

/** A problem with the command line or what it points at: exit code 2. */
class UsageError extends Error {}

function processIo(): RunCommandIo {
  return {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    onInterrupt(handler) {
      let count = 0;
      const listener = () => {
        // A second Ctrl-C means "now": do not wait for the delete.
        if (++count > 1) process.exit(130);
        handler();
      };
      process.on("SIGINT", listener);
      process.on("SIGTERM", listener);
      return () => {
        process.off("SIGINT", listener);
        process.off("SIGTERM", listener);
      };
    },
  };
}

/** `90s`, `5m`, `1h`, `1500ms`; a bare number is seconds. */
export function durationMs(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--${flag} must be a duration such as 30s, 5m or 1500ms, got ${JSON.stringify(text)}`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * factor);
}

/** A JSON option: inline JSON, or `@file` to read it from a file. */
function jsonOption(text: string | undefined, flag: string): JsonObject | undefined {
  if (text === undefined) return undefined;
  let source = text;
  if (text.startsWith("@")) {
    try {
      source = readFileSync(text.slice(1), "utf8");
    } catch (e) {
      throw new UsageError(`--${flag}: cannot read ${text.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  let value: JsonValue;
  try {
    value = JSON.parse(source) as JsonValue;
  } catch (e) {
    throw new UsageError(`--${flag} is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError(`--${flag} must be a JSON object`);
  return value;
}

function pairs(values: readonly string[] | undefined, flag: string): [string, string][] {
  return (values ?? []).map((pair) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--${flag} takes key=value, got ${JSON.stringify(pair)}`);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

function stringMap(value: JsonValue | undefined, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw new UsageError(`${where} must map names to strings`);
  }
  return value as Record<string, string>;
}

/**
 * Secrets come from the environment, never from the command line (where `ps` and shell history would keep
 * them): `custom["secrets"]` maps a key to a variable name, as flyte-sdk's local mode reads it, and
 * `--secret key=VAR` adds more.
 */
function secretsFrom(custom: JsonObject | undefined, flags: [string, string][], env: RunCommandIo["env"]): Record<string, string> {
  const wanted: [string, string, string][] = [
    ...Object.entries(stringMap(custom?.["secrets"], 'custom["secrets"]')).map(([k, v]): [string, string, string] => [k, v, 'custom["secrets"]']),
    ...flags.map(([k, v]): [string, string, string] => [k, v, "--secret"]),
  ];
  const secrets: Record<string, string> = {};
  for (const [key, name, where] of wanted) {
    const value = env[name] ?? env[name.toUpperCase().replace(/-/g, "_")];
    if (value === undefined) throw new UsageError(`${where}: secret "${key}" reads the environment variable ${name}, which is not set`);
    secrets[key] = value;
  }
  return secrets;
}

function describeProgress(event: RunProgress, seen: { line: string; links: Set<string> }): string[] {
  const at = `[${(event.elapsedMs / 1000).toFixed(1)}s]`;
  switch (event.kind) {
    case "created":
      return [`${at} created the job (metadata ${event.metaBytes} bytes)`];
    case "polled": {
      const out: string[] = [];
      const line = `${event.resource.phase}${event.resource.message ? `  ${event.resource.message}` : ""}`;
      if (line !== seen.line) {
        seen.line = line;
        out.push(`${at} ${line}`);
      }
      for (const link of event.resource.logLinks ?? []) {
        const text = `${link.name}  ${link.uri}`;
        if (!seen.links.has(text)) {
          seen.links.add(text);
          out.push(`${at} log: ${text}`);
        }
      }
      return out;
    }
    case "poll-error":
      return [`${at} GetTask error: ${event.error}`];
    case "deleting":
      return [`${at} ${event.reason === "signal" ? "interrupted" : "timed out"}: deleting the job`];
    case "delete-failed":
      return [`${at} deleting the job failed: ${event.error}`];
  }
}

/**
 * `flyte-connect run`: runs one task through a connector locally and returns the exit code. Progress goes to
 * stderr, the outputs (or with --json the whole result) to stdout as JSON.
 */
export async function runCommand(argv: readonly string[], io: RunCommandIo = processIo()): Promise<number> {
  const write = (stream: NodeJS.WritableStream, text: string) => stream.write(text.endsWith("\n") ? text : `${text}\n`);
  if (argv.includes("-h") || argv.includes("--help")) {
    write(io.stdout, RUN_USAGE);
    return 0;
  }
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        "task-type": { type: "string", short: "t" },
        "task-version": { type: "string" },
        custom: { type: "string" },
        inputs: { type: "string" },
        "input-types": { type: "string" },
        outputs: { type: "string" },
        template: { type: "string" },
        config: { type: "string", multiple: true },
        secret: { type: "string", multiple: true },
        modules: { type: "string", multiple: true },
        "no-builtins": { type: "boolean" },
        timeout: { type: "string" },
        "poll-interval": { type: "string" },
        "max-poll-interval": { type: "string" },
        json: { type: "boolean" },
        "log-level": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
    const version = values["task-version"] === undefined ? undefined : Number(values["task-version"]);
    if (version !== undefined && (!Number.isInteger(version) || version < 0)) throw new UsageError("--task-version must be a non-negative integer");
    const templateJson = values.template === undefined ? undefined : jsonOption(`@${values.template}`, "template");
    const custom = jsonOption(values.custom, "custom");
    const registry = createConnectorRegistry(values["no-builtins"] ? [] : builtinConnectors());
    await loadConnectorModules(
      (values.modules ?? [])
        .flatMap((m) => m.split(","))
        .map((m) => m.trim())
        .filter(Boolean),
      registry,
    );
    const task = localTaskFrom({
      template: templateJson,
      taskType: values["task-type"],
      taskVersion: version,
      custom,
      inputs: jsonOption(values.inputs, "inputs"),
      inputTypes: jsonOption(values["input-types"], "input-types"),
      outputTypes: jsonOption(values.outputs, "outputs"),
      connectorInputTypes: (template) => declaredInputTypes(registry.get(template.type, template.taskTypeVersion)),
    });
    const effectiveCustom = task.template.custom;
    const configs = { ...stringMap(effectiveCustom?.["configs"], 'custom["configs"]'), ...Object.fromEntries(pairs(values.config, "config")) };
    const secrets = secretsFrom(effectiveCustom, pairs(values.secret, "secret"), io.env);

    const connector = registry.get(task.template.type, task.template.taskTypeVersion);

    const interrupt = new AbortController();
    const stopListening = io.onInterrupt(() => interrupt.abort());
    const seen = { line: "", links: new Set<string>() };
    write(io.stderr, `flyte-connect run: ${task.template.type} v${task.template.taskTypeVersion} with ${connector.name}`);
    let result: RunResult;
    try {
      result = await runConnector({
        connector,
        template: task.template,
        inputs: task.inputs,
        configs,
        secrets,
        signal: interrupt.signal,
        timeoutMs: values.timeout === undefined ? undefined : durationMs(values.timeout, "timeout"),
        pollIntervalMs: values["poll-interval"] === undefined ? undefined : durationMs(values["poll-interval"], "poll-interval"),
        maxPollIntervalMs: values["max-poll-interval"] === undefined ? undefined : durationMs(values["max-poll-interval"], "max-poll-interval"),
        log: createLogger({ level: (values["log-level"] ?? "warn") as LogLevel, destination: io.stderr }),
        onProgress: (event) => {
          for (const line of describeProgress(event, seen)) write(io.stderr, line);
        },
      });
    } catch (e) {
      // Inputs that do not fit the connector's interface are the caller's to fix, as INVALID_ARGUMENT is.
      if (e instanceof LiteralError) {
        write(io.stderr, `flyte-connect run: INVALID_ARGUMENT: ${e.message}`);
        return 2;
      }
      write(io.stderr, `flyte-connect run: could not create the job: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    } finally {
      stopListening();
      // Connectors that hold connections (PostgreSQL sessions and pools) let go of them so the process can end.
      await registry.close();
    }

    if (values.json) {
      write(
        io.stdout,
        printableJson({
          phase: result.phase,
          message: result.message ?? null,
          outputs: result.outputs ?? null,
          log_links: result.logLinks.map((l: LogLink) => ({ name: l.name, uri: l.uri })),
          elapsed_ms: result.elapsedMs,
        }),
      );
    } else if (result.phase === "SUCCEEDED") {
      write(io.stdout, printableJson(result.outputs ?? {}));
    }
    if (result.phase !== "SUCCEEDED") write(io.stderr, `${result.phase}: ${result.message ?? "no message"}`);
    if (result.interrupted === "signal") return 130;
    if (result.interrupted === "timeout") return 124;
    return result.phase === "SUCCEEDED" ? 0 : 1;
  } catch (e) {
    const usage =
      e instanceof UsageError ||
      e instanceof ConnectorNotFoundError ||
      (typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string" && /^(ERR_PARSE_ARGS|FC_)/.test((e as { code: string }).code));
    write(io.stderr, `flyte-connect run: ${e instanceof Error ? e.message : String(e)}`);
    if (usage) write(io.stderr, 'Run "flyte-connect run --help" for the options.');
    return usage ? 2 : 1;
  }
}
