import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Outputs } from "#idl/flyteidl2/task/common_pb.js";
import type {
  AnyConnector,
  CreateRequest,
  GetContext,
  LogLink,
  LogsPage,
  LogsRequest,
  MetricResult,
  MetricsRequest,
  OutputTypes,
  Resource,
  TaskCategory,
} from "../../connectors/connector.js";
import { ConnectorError } from "../../connectors/errors.js";
import { PHASES, type Phase } from "../../connectors/phase.js";
import { ResourceMetaError } from "../../connectors/resource-meta.js";
import { outputsFromValues } from "../../literals/convert.js";
import { LiteralError } from "../../literals/errors.js";
import { silentLogger, type Logger } from "../../log/logger.js";
import { NO_SECRETS, secretLookup, type SecretSource } from "../../secrets/secret-lookup.js";
import { redactableSecrets, type ServiceSecrets } from "../../secrets/service-secrets.js";
import { redactSecrets } from "../pipeline/redact.js";
import { withSecretsRedacted } from "../pipeline/redacting-logger.js";
import { connectErrorFrom, type AbortState, type ConnectorOperation } from "./error-mapping.js";
import { DEFAULT_STORAGE_CONFIG } from "../../config/storage-config.js";
import { createStorage, type Storage } from "../../storage/storage.js";
import { taskStorage } from "../../storage/task-storage.js";

/**
 * The one way a connector is called, by the service (both transports), the local runner and
 * `flyte-connect/testing`: it builds the call's context, calls the connector, turns `ConnectorError` into a
 * phase, types the outputs by their declared types and maps every failure through error-mapping.ts. A
 * connector author's test therefore runs exactly the code the service runs.
 */

/** A call's abort signal, possibly built only when someone asks for it (the gRPC fast path's is). */
export interface LazySignal extends AbortState {
  readonly signal: AbortSignal;
}

/** The signal a call hands to its handler: a real one, or one the pipeline builds on first use. */
export type CallSignal = AbortSignal | LazySignal;

/** What one connector call is about: its RPC, task category and connection, and its signal. */
export interface CallScope {
  /** The RPC, such as `GetTask`, bound in the connector's log lines. */
  readonly rpc: string;
  readonly taskCategory: TaskCategory;
  /** `connection.secrets`; empty for logs and metrics. */
  readonly secrets: Readonly<Record<string, string>>;
  /** `connection.configs`; empty for logs and metrics. */
  readonly configs: Readonly<Record<string, string>>;
  /** CreateTask's and GetTask's output prefix; empty elsewhere. */
  readonly outputPrefix?: string;
  /** Aborts at the deadline, on cancel, on drain. */
  readonly signal: CallSignal;
}

/** Options of {@link createConnectorInvoker}. */
export interface ConnectorInvokerOptions {
  /** The parent of every connector's child logger; connector failures the service cannot map are logged here. */
  readonly log?: Logger;
  /** The service's own secrets, asked when the task's connection lacks a name (`ctx.secret(name)`). */
  readonly secretSource?: SecretSource;
  /** The object stores behind `ctx.storage`; by default the default configuration (local files, cloud SDK chains). */
  readonly storage?: Storage;
  /**
   * The service's secret sources as the service runs them: looked up after the connection like
   * `secretSource`, and every value they hold is redacted from logs, errors and resource messages too.
   */
  readonly serviceSecrets?: ServiceSecrets;
}

/** A job's state as the executor receives it: outputs already typed into literals, the message cleaned of secrets. */
export interface JobState {
  readonly phase: Phase;
  readonly message: string;
  readonly logLinks: readonly LogLink[];
  readonly customInfo?: JsonObject;
  /** On SUCCEEDED with outputs. */
  readonly outputs?: Outputs;
  /** The types `outputs` were converted by. */
  readonly outputTypes?: OutputTypes;
  /** The connector asked for outputs.pb even though the outputs may fit inline. */
  readonly offloadOutputs?: boolean;
}

/** DeleteTask's outcome: `unreadable` when no connector can read the metadata (nothing to delete). */
export type DeleteOutcome = "deleted" | "unreadable";

export interface ConnectorInvoker {
  /** The context a connector call receives. */
  context(scope: CallScope): GetContext;
  /** Starts the job; returns its metadata as the executor stores it. */
  create(connector: AnyConnector, request: CreateRequest, scope: CallScope): Promise<Uint8Array>;
  /** The job's state; a `ConnectorError` is a FAILED or RETRYABLE_FAILED phase, not an error. */
  get(connector: AnyConnector, resourceMeta: Uint8Array, scope: CallScope): Promise<JobState>;
  /** Cancels the job; metadata the connector cannot read is `unreadable`, not an error (the executor would retry forever). */
  delete(connector: AnyConnector, resourceMeta: Uint8Array, scope: CallScope): Promise<DeleteOutcome>;
  /** The job's log pages, one or several. */
  logs(connector: AnyConnector, resourceMeta: Uint8Array, request: LogsRequest, scope: CallScope): AsyncIterable<LogsPage>;
  metrics(connector: AnyConnector, resourceMeta: Uint8Array, request: MetricsRequest, scope: CallScope): Promise<readonly MetricResult[]>;
}

/** A connector bug the service cannot turn into a job phase, such as an unknown phase name. */
export class InvalidResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidResourceError";
  }
}

export function createConnectorInvoker(options: ConnectorInvokerOptions = {}): ConnectorInvoker {
  const log = options.log ?? silentLogger();
  const service = options.serviceSecrets?.lookup ?? options.secretSource ?? NO_SECRETS;
  // What a call's text is cleaned of: its connection's secrets and, when the service has its own, theirs.
  const redactable = (scope: CallScope) => redactableSecrets(scope.secrets, options.serviceSecrets);
  const storage = options.storage ?? createStorage(DEFAULT_STORAGE_CONFIG);

  const context = (scope: CallScope): GetContext => {
    let childLog: Logger | undefined;
    const { signal } = scope;
    return {
      get signal() {
        return signal instanceof AbortSignal ? signal : signal.signal;
      },
      // Built on first use: most calls never log, and a pino child per call is measurable on GetTask.
      // A connector may log a URL or an upstream message that embeds a secret: its values are replaced.
      get log() {
        childLog ??= withSecretsRedacted(
          log.child({ rpc: scope.rpc, taskType: scope.taskCategory.name, taskTypeVersion: scope.taskCategory.version }),
          redactable(scope),
        );
        return childLog;
      },
      secrets: scope.secrets,
      secret: secretLookup(scope.secrets, service),
      configs: scope.configs,
      taskCategory: scope.taskCategory,
      outputPrefix: scope.outputPrefix ?? "",
      get storage() {
        return taskStorage(storage, scope.outputPrefix ?? "", signal instanceof AbortSignal ? signal : signal.signal);
      },
    };
  };

  /** Maps a failure through error-mapping and logs what the caller only sees as INTERNAL. */
  const failure = (e: unknown, operation: ConnectorOperation, scope: CallScope) => {
    const secrets = redactable(scope);
    const err = connectErrorFrom(e, { operation, taskType: scope.taskCategory.name, secrets, signal: scope.signal });
    if (err.code === Code.Internal) {
      log.error({ rpc: scope.rpc, taskType: scope.taskCategory.name, err: redactSecrets(String(e instanceof Error ? e.stack : e), secrets) }, err.rawMessage);
    }
    return err;
  };

  return {
    context,

    async create(connector, request, scope) {
      try {
        // At debug: the RPC's own line (at info) says that the create happened and how it ended; this one says
        // when the connector was called, for a create that hangs. The root logger with the child's fields: a
        // child logger per CreateTask for this line alone would cost more than the line.
        log.debug(
          { rpc: scope.rpc, taskType: scope.taskCategory.name, taskTypeVersion: scope.taskCategory.version, connector: connector.name },
          "start creating the job",
        );
        return connector.metadata.encode(await connector.create(request, context(scope)));
      } catch (e) {
        throw failure(e, "create", scope);
      }
    },

    async get(connector, resourceMeta, scope) {
      try {
        const meta = connector.metadata.decode(resourceMeta);
        let resource: Resource;
        try {
          resource = await connector.get(meta, context(scope));
        } catch (e) {
          // A failed job is a phase the executor shows to the user, not an RPC error it counts.
          if (!(e instanceof ConnectorError)) throw e;
          resource = { phase: e.retryable ? "RETRYABLE_FAILED" : "FAILED", message: e.message };
        }
        return jobStateOf(resource, connector, redactable(scope));
      } catch (e) {
        throw failure(e, "get", scope);
      }
    },

    async delete(connector, resourceMeta, scope) {
      let meta: unknown;
      try {
        meta = connector.metadata.decode(resourceMeta);
      } catch (e) {
        if (e instanceof ResourceMetaError) return "unreadable";
        throw failure(e, "delete", scope);
      }
      try {
        // Idempotence is the connector's contract: finished and unknown jobs answer OK.
        await connector.delete(meta, context(scope));
        return "deleted";
      } catch (e) {
        throw failure(e, "delete", scope);
      }
    },

    async *logs(connector, resourceMeta, request, scope) {
      try {
        if (!connector.getLogs) throw new ConnectError(`connector ${connector.name} does not provide logs`, Code.Unimplemented);
        const pages = connector.getLogs(connector.metadata.decode(resourceMeta), request, context(scope));
        if (Symbol.asyncIterator in pages) yield* pages;
        else yield await pages;
      } catch (e) {
        throw failure(e, "get logs of", scope);
      }
    },

    async metrics(connector, resourceMeta, request, scope) {
      try {
        if (!connector.getMetrics) throw new ConnectError(`connector ${connector.name} does not provide metrics`, Code.Unimplemented);
        return await connector.getMetrics(connector.metadata.decode(resourceMeta), request, context(scope));
      } catch (e) {
        throw failure(e, "get metrics of", scope);
      }
    },
  };
}

/**
 * A resource as the executor receives it. Outputs are typed by what the resource or the connector declares,
 * never guessed from runtime values (Python's `type(v)` guess pickles lists). A value that does not fit its
 * declared type makes the job FAILED with a message that names the output: the user can act on it, and the
 * executor does not burn its few GetTask errors on it.
 */
const NO_LOG_LINKS: readonly LogLink[] = Object.freeze([]);

function jobStateOf(resource: Resource, connector: AnyConnector, secrets: Readonly<Record<string, string>>): JobState {
  if (!PHASES.includes(resource.phase)) {
    throw new InvalidResourceError(`connector ${connector.name} returned an unknown phase ${JSON.stringify(resource.phase)}`);
  }
  const logLinks = resource.logLinks ?? NO_LOG_LINKS;
  const offload = resource.offloadOutputs === true ? { offloadOutputs: true } : undefined;
  if (resource.outputs === undefined) {
    // Every poll of a running job comes here: one object, no spreads.
    const state: JobState = { phase: resource.phase, message: redactSecrets(resource.message ?? "", secrets), logLinks, customInfo: resource.customInfo };
    return offload ? { ...state, ...offload } : state;
  }
  const types = resource.outputTypes ?? connector.outputTypes ?? {};
  try {
    const outputs = outputsFromValues(resource.outputs as Readonly<Record<string, unknown>>, types);
    return {
      phase: resource.phase,
      message: redactSecrets(resource.message ?? "", secrets),
      logLinks,
      customInfo: resource.customInfo,
      ...offload,
      outputs,
      outputTypes: types,
    };
  } catch (e) {
    if (!(e instanceof LiteralError)) throw e;
    const message = `connector ${connector.name} returned outputs that do not fit the task interface: ${e.message}`;
    return { phase: "FAILED", message: redactSecrets(message, secrets), logLinks, customInfo: resource.customInfo, ...offload };
  }
}
