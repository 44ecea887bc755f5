import type { Client } from "@connectrpc/connect";
import type { AsyncConnectorService } from "../../vendor/flyteidl2/flyteidl2/connector/service_pb.js";
import type { LogLine } from "../../vendor/flyteidl2/flyteidl2/logs/dataplane/payload_pb.js";
import { taskCategoryInit, type TaskCategoryRef } from "./task-ref.js";

/** Options of {@link streamLogs}. */
export interface StreamLogsOptions {
  /** Lines asked for per GetTaskLogs call; 0 (the default) lets the connector choose its page size. */
  readonly linesPerPage?: number;
  /** Where to start: a token from an earlier page; "" (the default) is the first page. */
  readonly token?: string;
  readonly signal?: AbortSignal;
  /** Deadline of each GetTaskLogs call. */
  readonly timeoutMs?: number;
  /** Stop after this many pages even if the connector offers more; 1000 when not given. */
  readonly maxPages?: number;
}

/**
 * Streams a task's log lines as they arrive. GetTaskLogs is server-streaming and answers one page: bodies
 * of lines and a header with the token of the next page. This follows the tokens, one call per page, until
 * a page has none, so the caller sees one sequence of lines. Connectors without logs fail with `Unimplemented`.
 *
 * @example
 * for await (const line of clients.streamLogs({ name: "sleep" }, meta)) console.log(line.message);
 */
export async function* streamLogs(
  tasks: Client<typeof AsyncConnectorService>,
  category: TaskCategoryRef,
  resourceMeta: Uint8Array,
  options: StreamLogsOptions = {},
): AsyncGenerator<LogLine, void, undefined> {
  const taskCategory = taskCategoryInit(category);
  const linesPerPage = options.linesPerPage ?? 0;
  if (!Number.isSafeInteger(linesPerPage) || linesPerPage < 0) throw new TypeError(`linesPerPage must be a non-negative integer, got ${linesPerPage}`);
  const maxPages = options.maxPages ?? 1000;
  let token = options.token ?? "";
  // A connector that hands out a token it handed out before would otherwise keep us here forever.
  const seen = new Set<string>([token]);
  for (let page = 0; page < maxPages; page++) {
    let next = "";
    const parts = tasks.getTaskLogs(
      { taskCategory, resourceMeta, lines: BigInt(linesPerPage), token },
      { signal: options.signal, timeoutMs: options.timeoutMs },
    );
    for await (const { part } of parts) {
      if (part.case === "body") yield* part.value.lines;
      else if (part.case === "header") next = part.value.token;
    }
    if (next === "" || seen.has(next)) return;
    seen.add(next);
    token = next;
  }
}
