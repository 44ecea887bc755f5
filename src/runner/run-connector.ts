import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { TaskTemplate } from "#idl/flyteidl2/core/tasks_pb.js";
import type { AnyConnector, ConnectorContext, LogLink, OutputTypes, Resource } from "../connectors/connector.js";
import { ConnectorError } from "../connectors/errors.js";
import { isTerminalPhase, type Phase } from "../connectors/phase.js";
import { checkTaskInputs, connectorInputs } from "../connectors/connector-inputs.js";
import { inputsFromValues, outputsFromValues, outputTypesOf, valuesFromOutputs } from "../literals/convert.js";
import { declaredInputTypes } from "../literals/define-interface.js";
import { LiteralError } from "../literals/errors.js";
import { silentLogger, type Logger } from "../log/logger.js";
import { secretLookup } from "../secrets/secret-lookup.js";
import { DEFAULT_STORAGE_CONFIG } from "../config/storage-config.js";
import { createStorage, type Storage } from "../storage/storage.js";
import { taskStorage } from "../storage/task-storage.js";

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
  /** Where the task's outputs and files go (`ctx.storage`); a URI or a local directory. */
  readonly outputPrefix?: string;
  /** The object stores behind `ctx.storage`; by default the default configuration (cloud SDK chains, local files). */
  readonly storage?: Storage;
  readonly log?: Logger;
  /** Told about each step, for a progress display. */
  readonly onProgress?: (event: RunProgress) => void;
}

/** A step of a run. */
export type RunProgress =
  | { readonly kind: "created"; readonly metaBytes: number; readonly elapsedMs: number }
  | { readonly kind: "polled"; readonly resource: Resource; readonly elapsedMs: number }
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

/** The executor gives up on a task after this many GetTask errors in a row (executor-contract.md §4.5). */
const MAX_GET_ERRORS = 6;

/**
 * Runs one task through a connector end to end, without a Flyte cluster and without the service: create,
 * poll with backoff until a terminal phase, and outputs checked against the task's interface. The metadata
 * goes through the connector's codec between calls, as it does through the executor, so what works here
 * works behind the executor. Interrupted by the signal or the timeout, it deletes the job before returning.
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
  const storage = options.storage ?? createStorage(DEFAULT_STORAGE_CONFIG);
  const context = (signal: AbortSignal): ConnectorContext => ({
    signal,
    log: log.child({ taskType: template.type }),
    configs: options.configs ?? {},
    secrets: options.secrets ?? {},
    secret: secretLookup(options.secrets ?? {}),
    taskCategory: { name: template.type, version: template.taskTypeVersion },
    storage: taskStorage(storage, options.outputPrefix ?? "", signal),
  });
  const callSignal = (withStop: boolean) => {
    const deadline = AbortSignal.timeout(callTimeoutMs);
    return withStop ? AbortSignal.any([deadline, stop]) : deadline;
  };

  const outputTypes = outputTypesOf(template.interface);
  const inputs = inputsFor(connector, template, options.inputs ?? {});
  let created: unknown;
  try {
    created = await connector.create(
      {
        template,
        inputs,
        outputPrefix: options.outputPrefix ?? "",
        idempotencyKey: options.idempotencyKey ?? randomUUID().replace(/-/g, ""),
        outputTypes,
      },
      context(callSignal(true)),
    );
  } catch (e) {
    // Interrupted while creating: no metadata came back, so there is nothing to delete.
    if (!stop.aborted) throw e;
    const reason = reasonOf();
    return { phase: "ABORTED", message: `${reason === "signal" ? "interrupted" : "timed out"} before the job was created`, logLinks: [], interrupted: reason, elapsedMs: elapsed() };
  }
  const bytes = connector.metadata.encode(created);
  progress({ kind: "created", metaBytes: bytes.length, elapsedMs: elapsed() });
  const meta: unknown = connector.metadata.decode(bytes);

  let interval = options.pollIntervalMs ?? 1000;
  const maxInterval = options.maxPollIntervalMs ?? 10_000;
  let getErrors = 0;
  let last: Resource | undefined;
  for (;;) {
    if (stop.aborted) return interrupt(reasonOf());
    try {
      const resource = await connector.get(meta, { ...context(callSignal(true)), outputPrefix: options.outputPrefix ?? "" });
      getErrors = 0;
      last = resource;
      progress({ kind: "polled", resource, elapsedMs: elapsed() });
      if (isTerminalPhase(resource.phase)) return finish(resource);
    } catch (e) {
      if (stop.aborted) return interrupt(reasonOf());
      if (e instanceof ConnectorError) return finish({ phase: e.retryable ? "RETRYABLE_FAILED" : "FAILED", message: e.message, logLinks: last?.logLinks });
      const message = e instanceof Error ? e.message : String(e);
      progress({ kind: "poll-error", error: message, elapsedMs: elapsed() });
      if (++getErrors >= MAX_GET_ERRORS) {
        return finish({ phase: "FAILED", message: `GetTask failed ${getErrors} times in a row; the executor would give up too. Last error: ${message}` });
      }
    }
    try {
      await sleep(interval, undefined, { signal: stop });
    } catch {
      return interrupt(reasonOf());
    }
    interval = Math.min(maxInterval, Math.round(interval * 1.5));
  }

  /** The job's end as the executor would see it: outputs that do not fit their types fail the job. */
  function finish(resource: Resource): RunResult {
    const base = { logLinks: resource.logLinks ?? last?.logLinks ?? [], elapsedMs: elapsed() };
    if (resource.phase !== "SUCCEEDED" || resource.outputs === undefined) {
      return { ...base, phase: resource.phase, ...(resource.message === undefined ? {} : { message: resource.message }) };
    }
    const types = resource.outputTypes ?? connector.outputTypes ?? outputTypes;
    try {
      // Through literals and back: exactly the values a downstream task would receive.
      const outputs = valuesFromOutputs(outputsFromValues(resource.outputs as Record<string, unknown>, types), types);
      return { ...base, phase: "SUCCEEDED", ...(resource.message === undefined ? {} : { message: resource.message }), outputs, outputTypes: types };
    } catch (e) {
      if (!(e instanceof LiteralError)) throw e;
      return { ...base, phase: "FAILED", message: `connector ${connector.name} returned outputs that do not fit the task interface: ${e.message}` };
    }
  }

  /** Ctrl-C or timeout: delete the job (with a fresh deadline: the stop signal has fired), then report. */
  async function interrupt(reason: "signal" | "timeout"): Promise<RunResult> {
    progress({ kind: "deleting", reason, elapsedMs: elapsed() });
    try {
      await connector.delete(meta, context(callSignal(false)));
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
