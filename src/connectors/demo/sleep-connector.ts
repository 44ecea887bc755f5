import { AsyncConnector, type CreateRequest, type LogEntry, type LogsPage, type LogsRequest, type Resource } from "../connector.js";
import { InvalidTaskError } from "../errors.js";
import { jsonResourceMeta, requireNumber } from "../resource-meta.js";

/** Field names follow Python's snake_case so that the JSON reads the same from either implementation. */
export interface SleepMeta {
  readonly seconds: number;
  /** Epoch milliseconds at create. */
  readonly started_at_ms: number;
}

/**
 * A demo connector with no external dependency: RUNNING until `seconds` (an int or float input) have passed
 * since create, then SUCCEEDED. It keeps nothing in memory — any replica can answer for any task — and its
 * logs come in pages, one line per elapsed second, to show GetTaskLogs paging.
 */
export class SleepConnector extends AsyncConnector<SleepMeta> {
  readonly name = "Sleep Connector";
  readonly taskTypeName = "sleep";
  override readonly metadata = jsonResourceMeta<SleepMeta>({
    parse: (r) => ({ seconds: requireNumber(r, "seconds"), started_at_ms: requireNumber(r, "started_at_ms") }),
  });

  async create(request: CreateRequest): Promise<SleepMeta> {
    const raw = request.inputs["seconds"];
    const seconds = typeof raw === "bigint" ? Number(raw) : raw;
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      throw new InvalidTaskError(`sleep needs an input "seconds" that is a non-negative number, got ${describe(raw)}`);
    }
    return { seconds, started_at_ms: Date.now() };
  }

  async get(meta: SleepMeta): Promise<Resource> {
    const elapsedMs = Date.now() - meta.started_at_ms;
    return elapsedMs >= meta.seconds * 1000
      ? { phase: "SUCCEEDED", message: `slept ${meta.seconds} s` }
      : { phase: "RUNNING", message: `slept ${(elapsedMs / 1000).toFixed(1)} of ${meta.seconds} s` };
  }

  async delete(): Promise<void> {
    // Nothing runs anywhere: deleting a sleep is always done.
  }

  /** Pages of `lines` lines (default 10): "second N" for every whole second slept, then "done" once finished. */
  override async *getLogs(meta: SleepMeta, request: LogsRequest): AsyncIterable<LogsPage> {
    const elapsedS = (Date.now() - meta.started_at_ms) / 1000;
    const done = elapsedS >= meta.seconds;
    const all: LogEntry[] = [];
    for (let s = 1; s <= Math.floor(Math.min(elapsedS, meta.seconds)); s++) {
      all.push({ message: `second ${s} of ${meta.seconds}`, timestamp: new Date(meta.started_at_ms + s * 1000), originator: "SYSTEM" });
    }
    if (done) all.push({ message: `done after ${meta.seconds} s`, timestamp: new Date(meta.started_at_ms + meta.seconds * 1000), originator: "SYSTEM" });
    const pageSize = request.lines > 0 ? request.lines : 10;
    const from = request.token === "" ? 0 : Number(request.token);
    if (!Number.isSafeInteger(from) || from < 0) throw new InvalidTaskError(`bad log token ${JSON.stringify(request.token)}`);
    const to = Math.min(all.length, from + pageSize);
    yield { lines: all.slice(from, to), nextToken: to < all.length ? String(to) : undefined };
  }
}

function describe(v: unknown): string {
  return v === undefined ? "nothing" : typeof v === "string" ? JSON.stringify(v) : `${typeof v} ${String(v)}`;
}

