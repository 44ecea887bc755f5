import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import type { AnyConnector, LogLink, OutputTypes, Resource } from "../connectors/connector.js";
import { isTerminalPhase, type Phase } from "../connectors/phase.js";
import { checkTaskInputs, connectorInputs } from "../connectors/connector-inputs.js";
import { inputsFromValues, outputTypesOf, valuesFromOutputs } from "../literals/convert.js";
import { declaredInputTypes } from "../literals/define-interface.js";
import { silentLogger, type Logger } from "../log/logger.js";
import type { SecretSource } from "../secrets/secret-lookup.js";
import { createConnectorInvoker, type CallScope, type JobState } from "../service/rpc/connector-invoker.js";

/** Options of {@link runConnector}. */
export interface RunConnectorOptions {
  /** The connector that serves the template's task type. */
  readonly connector: AnyConnector;
  /** The task, as the executor would send it: type, `custom`, interface. */
  readonly template: TaskTemplate;
  /** Input values by name, as the type engine gives them to a connector (integers as bigint, …). */
  readonly inputs?: Readonly<Record<string, unknown>>;
  /** The task's connection, as the executor sends it with every call. */
  readonly configs?: Readonly<Record<string, string>>;
  readonly secrets?: Readonly<Record<string, string>>;
  /** Aborting it deletes the job and ends the run with `interrupted: "signal"` (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** The whole run's limit; past it the job is deleted and the run ends with `interrupted: "timeout"`. */
  readonly timeoutMs?: number;
  /** The first wait between polls; it grows by half each poll. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** The longest wait between polls. Default 10 000 ms. */
  readonly maxPollIntervalMs?: number;
  /** Each connector call's deadline, as the executor's per-RPC deadline. Default 10 000 ms. */
  readonly callTimeoutMs?: number;
  /** The attempt's idempotency key; default a fresh one per run. */
  readonly idempotencyKey?: string;
  readonly outputPrefix?: string;
  readonly log?: Logger;
  /** Secrets by name for `ctx.secret(name)` beyond `secrets`, as the service's own sources would give them. */
  readonly secretSource?: SecretSource;
  /** Told about each step, for a progress display. */
  readonly onProgress?: (event: RunProgress) => void;
}

/** A step of a run. */
export type RunProgress =
  | { readonly kind: "created"; readonly metaBytes: number; readonly elapsedMs: number }
  | { readonly kind: "polled"; readonly resource: Pick<Resource, "phase" | "message" | "logLinks">; readonly elapsedMs: number }
  | { readonly kind: "poll-error"; readonly error: string; readonly elapsedMs: number }
  | { readonly kind: "deleting"; readonly reason: "signal" | "timeout"; readonly elapsedMs: number }
  | { readonly kind: "delete-failed"; readonly error: string; readonly elapsedMs: number };

/** How a run ended. */
export interface RunResult {
  /** The job's last phase; ABORTED when the run was interrupted. */
  readonly phase: Phase;
  readonly message?: string;
  /** On SUCCEEDED: the outputs, after the same check against the declared types the service makes. */
  readonly outputs?: Readonly<Record<string, unknown>>;
  readonly outputTypes?: OutputTypes;
  readonly logLinks: readonly LogLink[];
  /** Set when Ctrl-C (the signal) or the timeout ended the run; the job was deleted. */
  readonly interrupted?: "signal" | "timeout";
  readonly elapsedMs: number;
}

/**
 * The values `create` receives. For a connector that declares its inputs, they go through literals by the
 * template's interface and the same check the service makes, so a run fails on the inputs where a task would
 * (LiteralError naming the input); other connectors get the values as given.
 */
function inputsFor(connector: AnyConnector, template: TaskTemplate, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (declaredInputTypes(connector) === undefined) return { ...values };
  checkTaskInputs(connector, template.interface);
  return connectorInputs(connector, inputsFromValues(values, template.interface), template.interface);
}

/** The executor gives up on a task after this many GetTask errors in a row (docs/flyte-executor.md §4.5). */
const MAX_GET_ERRORS = 6;

/**
 * Runs one task through a connector end to end, without a Flyte cluster and without the service: create,
 * poll with backoff until a terminal phase, and outputs checked against the task's interface. Every call goes
 * through the service's connector invoker (the same context, phases, output typing and error mapping), and
 * the metadata through the connector's codec between calls, as it does through the executor, so what works
 * here works behind the executor. Interrupted by the signal or the timeout, it deletes the job before returning.
 *
 * @example
 * const result = await runConnector({ connector: new PostgresConnector(), template, inputs: { n: 3n },
 *   configs: { host, database, user }, secrets: { password } });
 * if (result.phase === "SUCCEEDED") console.log(result.outputs);
 */
export async function runConnector(options: RunConnectorOptions): Promise<RunResult> {
  const { connector, template } = options;
  const log = options.log ?? silentLogger();
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const progress = options.onProgress ?? (() => undefined);

  // One signal for "stop waiting": Ctrl-C or the run's timeout, whichever comes first.
  const timeout = options.timeoutMs !== undefined ? AbortSignal.timeout(options.timeoutMs) : undefined;
  const stop = AbortSignal.any([options.signal, timeout].filter((s): s is AbortSignal => s !== undefined));
  const reasonOf = (): "signal" | "timeout" => (options.signal?.aborted ? "signal" : "timeout");
  const invoker = createConnectorInvoker({ log, secretSource: options.secretSource });
  const scope = (signal: AbortSignal): CallScope => ({
    rpc: "run",
    taskCategory: { name: template.type, version: template.taskTypeVersion },
    configs: options.configs ?? {},
    secrets: options.secrets ?? {},
    outputPrefix: options.outputPrefix ?? "",
    signal,
  });
  const callSignal = (withStop: boolean) => {
    const deadline = AbortSignal.timeout(callTimeoutMs);
    return withStop ? AbortSignal.any([deadline, stop]) : deadline;
  };

  const outputTypes = outputTypesOf(template.interface);
  const inputs = inputsFor(connector, template, options.inputs ?? {});
  let meta: Uint8Array;
  try {
    meta = await invoker.create(
      connector,
      {
        template,
        inputs,
        outputPrefix: options.outputPrefix ?? "",
        idempotencyKey: options.idempotencyKey ?? randomUUID().replace(/-/g, ""),
        outputTypes,
      },
      scope(callSignal(true)),
    );
  } catch (e) {
    // Interrupted while creating: no metadata came back, so there is nothing to delete.
    if (!stop.aborted) throw e;
    const reason = reasonOf();
    return {
      phase: "ABORTED",
      message: `${reason === "signal" ? "interrupted" : "timed out"} before the job was created`,
      logLinks: [],
      interrupted: reason,
      elapsedMs: elapsed(),
    };
  }
  progress({ kind: "created", metaBytes: meta.length, elapsedMs: elapsed() });

  let interval = options.pollIntervalMs ?? 1000;
  const maxInterval = options.maxPollIntervalMs ?? 10_000;
  let getErrors = 0;
  let last: JobState | undefined;
  for (;;) {
    if (stop.aborted) return interrupt(reasonOf());
    try {
      const state = await invoker.get(connector, meta, scope(callSignal(true)));
      getErrors = 0;
      last = state;
      progress({ kind: "polled", resource: { phase: state.phase, message: state.message, logLinks: state.logLinks }, elapsedMs: elapsed() });
      if (isTerminalPhase(state.phase)) return finish(state);
    } catch (e) {
      if (stop.aborted) return interrupt(reasonOf());
      const message = e instanceof Error ? e.message : String(e);
      progress({ kind: "poll-error", error: message, elapsedMs: elapsed() });
      if (++getErrors >= MAX_GET_ERRORS) {
        return finish({
          phase: "FAILED",
          message: `GetTask failed ${getErrors} times in a row; the executor would give up too. Last error: ${message}`,
          logLinks: last?.logLinks ?? [],
        });
      }
    }
    try {
      await sleep(interval, undefined, { signal: stop });
    } catch {
      return interrupt(reasonOf());
    }
    interval = Math.min(maxInterval, Math.round(interval * 1.5));
  }

  /** The job's end as the executor would see it: outputs already typed (and checked) by the invoker. */
  function finish(state: JobState): RunResult {
    const base = { logLinks: state.logLinks.length > 0 ? state.logLinks : (last?.logLinks ?? []), elapsedMs: elapsed() };
    const message = state.message === "" ? {} : { message: state.message };
    if (state.phase !== "SUCCEEDED" || state.outputs === undefined) return { ...base, phase: state.phase, ...message };
    const types = state.outputTypes ?? outputTypes;
    // Back from literals: exactly the values a downstream task would receive.
    return { ...base, phase: "SUCCEEDED", ...message, outputs: valuesFromOutputs(state.outputs, types), outputTypes: types };
  }

  /** Ctrl-C or timeout: delete the job (with a fresh deadline: the stop signal has fired), then report. */
  async function interrupt(reason: "signal" | "timeout"): Promise<RunResult> {
    progress({ kind: "deleting", reason, elapsedMs: elapsed() });
    try {
      await invoker.delete(connector, meta, scope(callSignal(false)));
    } catch (e) {
      progress({ kind: "delete-failed", error: e instanceof Error ? e.message : String(e), elapsedMs: elapsed() });
    }
    return {
      phase: "ABORTED",
      message: reason === "signal" ? "interrupted; the job was deleted" : `timed out after ${options.timeoutMs} ms; the job was deleted`,
      logLinks: last?.logLinks ?? [],
      interrupted: reason,
      elapsedMs: elapsed(),
    };
  }
}
