import { AsyncLocalStorage } from "node:async_hooks";
import { AsyncConnector, type AnyConnector, type ConnectorContext, type CreateRequest, type Resource } from "./connector.js";
import { ConnectorError } from "./errors.js";
import { resourceFromStoredOutputs, storedOutputsCodec, storeFailure, storeOutputs, type StoredOutputsMeta } from "./stored-outputs.js";

/** Marks sync connectors across copies of this package (a connector module may bring its own), where `instanceof` fails. */
const SYNC_CONNECTOR = Symbol.for("flyte-connect.SyncConnector");

/**
 * A connector for work that finishes within one call — a webhook, a model API, a lookup — written as one
 * function: `execute(request, ctx) → outputs`. Subclass it and implement `execute`; the base class provides
 * `create`, `get` and `delete`, so a sync connector registers, runs locally and is tested like any other.
 *
 * - Flyte 1 reaches it through `SyncAgentService.ExecuteTaskSync` (ListAgents says `is_sync`): one call runs
 *   `execute` and answers its outputs inline.
 * - Flyte 2 has no sync RPC and reaches it through CreateTask/GetTask: `create` runs `execute` and keeps the
 *   result in the resource metadata; `get` answers it without running anything again (docs/decisions.md).
 *   A result larger than {@link SyncConnector.maxStoredResultBytes} fails the task with a message that says so.
 *
 * `execute` must finish within the caller's deadline (the executor's is 10 s): `ctx.signal` aborts there and
 * the call ends DEADLINE_EXCEEDED. Throw {@link ConnectorError} for a failure the user should see as the task's
 * (FAILED, or RETRYABLE_FAILED); any other exception fails the call with INTERNAL, which the executor retries.
 * The executor may call CreateTask twice for one attempt, so `execute` may run twice: keep it idempotent or
 * pass `request.idempotencyKey` on to the system it calls.
 *
 * @example
 * class Shout extends SyncConnector {
 *   readonly name = "Shout Connector";
 *   readonly taskTypeName = "shout";
 *   async execute(req) { return { o0: String(req.inputs.text).toUpperCase() }; }
 * }
 */
export abstract class SyncConnector<Inputs extends object = Record<string, unknown>, Outputs extends object = Record<string, unknown>> extends AsyncConnector<
  StoredOutputsMeta,
  Inputs,
  Outputs
> {
  override readonly metadata = storedOutputsCodec;
  readonly [SYNC_CONNECTOR] = true;
  /**
   * The largest result, as encoded metadata, kept for Flyte 2's GetTask. The executor stores metadata with the
   * task's state and sends it back on every poll, so it must stay small. Default 16 KiB.
   */
  readonly maxStoredResultBytes: number = 16 * 1024;

  /** Does the work and returns the output values by output name, typed by the template's interface. */
  abstract execute(request: CreateRequest<Inputs>, ctx: ConnectorContext): Promise<Outputs>;

  async create(request: CreateRequest<Inputs>, ctx: ConnectorContext): Promise<StoredOutputsMeta> {
    const types = this.outputTypes ?? request.outputTypes;
    let meta: StoredOutputsMeta;
    try {
      meta = storeOutputs((await this.execute(request, ctx)) as Record<string, unknown>, types);
    } catch (e) {
      if (!(e instanceof ConnectorError)) throw e;
      return storeFailure(e.message, e.retryable, types);
    }
    if (meta.error !== undefined)
      return storeFailure(`connector ${this.name} returned outputs that do not fit the task interface: ${meta.error}`, false, types);
    const size = this.metadata.encode(meta).length;
    if (size > this.maxStoredResultBytes && !inlineResults.getStore()) {
      return storeFailure(
        `the task's outputs are ${kib(size)} KiB, over the ${kib(this.maxStoredResultBytes)} KiB a sync connector keeps in resource metadata when it is run through CreateTask; ` +
          `return large results as files, tables or other references, or raise maxStoredResultBytes of connector ${this.name}`,
        false,
        types,
      );
    }
    return meta;
  }

  async get(meta: StoredOutputsMeta): Promise<Resource<Outputs>> {
    return resourceFromStoredOutputs(meta) as Resource<Outputs>;
  }

  async delete(): Promise<void> {
    // The work finished inside create: there is never anything to cancel.
  }
}

/** Whether a registered connector is a sync connector (ListAgents' `is_sync`). */
export function isSyncConnector(connector: AnyConnector): connector is SyncConnector {
  return (connector as { [SYNC_CONNECTOR]?: unknown })[SYNC_CONNECTOR] === true;
}

const inlineResults = new AsyncLocalStorage<true>();

/**
 * Runs `fn` with the stored-result limit lifted, for a caller that reads the metadata back at once in the
 * same process and never hands it to an executor (ExecuteTaskSync, which answers outputs inline).
 */
export function withInlineResults<T>(fn: () => Promise<T>): Promise<T> {
  return inlineResults.run(true, fn);
}

/** Whether the current call runs under {@link withInlineResults}: its metadata never reaches an executor. */
export function runsWithInlineResults(): boolean {
  return inlineResults.getStore() === true;
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1);
