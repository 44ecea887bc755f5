import type { CreateTaskRequest } from "#idl/flyteidl2/connector/connector_pb.js";

/**
 * A task this service created, as the dashboard lists it. Only what identifies the task: never the request's
 * connection (its secrets and configs), inputs or template body.
 */
export interface RecentTask {
  readonly taskCategory: { readonly name: string; readonly version: number };
  /** The resource metadata CreateTask returned, base64: what GetTask needs to follow the task. */
  readonly resourceMetaBase64: string;
  /** The task's name from its template id, such as `my_wf.my_task`; "" when the request had none. */
  readonly taskName: string;
  /** The run's name and node from the execution id; "" when the request had none. */
  readonly executionName: string;
  readonly nodeId: string;
  readonly retryAttempt: number;
  /** When CreateTask answered, ISO 8601. */
  readonly createdAt: string;
}

/**
 * A bounded, in-memory list of the tasks this process created, newest first. The connector service is
 * otherwise stateless (any replica answers for any task), so this is a convenience for the dashboard of
 * one replica, lost on restart: it is not a record of anything.
 */
export interface RecentTasks {
  /** Remembers a successful CreateTask; the oldest entry goes once `capacity` is reached. */
  record(request: CreateTaskRequest, resourceMeta: Uint8Array, now?: Date): void;
  /** Newest first. */
  list(): readonly RecentTask[];
}

/** Default number of tasks kept: a screenful. */
export const RECENT_TASKS_CAPACITY = 25;

/** Creates an empty {@link RecentTasks} holding at most `capacity` tasks. */
export function createRecentTasks(capacity: number = RECENT_TASKS_CAPACITY): RecentTasks {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  // Every CreateTask records and few are ever listed: the metadata's base64 and the date are written when listed.
  const entries: {
    readonly task: Omit<RecentTask, "resourceMetaBase64" | "createdAt">;
    readonly resourceMeta: Uint8Array;
    readonly at: number;
    listed?: RecentTask;
  }[] = [];
  return {
    record(request, resourceMeta, now = new Date()) {
      const template = request.template;
      const taskExecutionId = request.taskExecutionMetadata?.taskExecutionId;
      // Fields are picked one by one so that nothing secret-bearing (request.connection) can slip in, and
      // nothing large (inputs, the template's body) is kept alive.
      const task = {
        taskCategory: Object.freeze({ name: template?.type ?? "", version: template?.taskTypeVersion ?? 0 }),
        taskName: template?.id?.name ?? "",
        executionName: taskExecutionId?.nodeExecutionId?.executionId?.name ?? "",
        nodeId: taskExecutionId?.nodeExecutionId?.nodeId ?? "",
        retryAttempt: taskExecutionId?.retryAttempt ?? 0,
      };
      entries.unshift({ task, resourceMeta, at: now.getTime() });
      if (entries.length > capacity) entries.length = capacity;
    },
    list: () =>
      entries.map((entry) => {
        entry.listed ??= Object.freeze({
          ...entry.task,
          resourceMetaBase64: Buffer.from(entry.resourceMeta.buffer, entry.resourceMeta.byteOffset, entry.resourceMeta.byteLength).toString("base64"),
          createdAt: new Date(entry.at).toISOString(),
        });
        return entry.listed;
      }),
  };
}
