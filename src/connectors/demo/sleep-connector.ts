import { AsyncConnector, type CreateRequest, type LogEntry, type LogsPage, type LogsRequest, type Resource } from "../connector.js";
import { InvalidTaskError } from "../errors.js";
import { jsonResourceMeta, requireNumber, ResourceMetaError, type MetaRecord } from "../resource-meta.js";

/** Field names follow Python's snake_case so that the JSON reads the same from either implementation. */
export interface SleepMeta {
  readonly seconds: number;
  /** Epoch milliseconds at create. */
  readonly started_at_ms: number;
}

/** The longest sleep: a week. Longer ones are refused at create and in metadata (which is client input). */
export const MAX_SLEEP_SECONDS = 7 * 24 * 3600;
/** The most lines one GetTaskLogs page returns, whatever `lines` the client asks for. */
export const MAX_LOG_PAGE_LINES = 1000;
/** How far in the future a start may lie: clocks of replicas differ a little, never by this much. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The metadata as the executor sends it back. It is client input: a forged `seconds` or `started_at_ms`
 * would otherwise decide how much work getLogs does (one line per second slept).
 */
function parseSleepMeta(r: MetaRecord): SleepMeta {
  const seconds = requireNumber(r, "seconds");
  const started_at_ms = requireNumber(r, "started_at_ms");
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_SLEEP_SECONDS) {
    throw new ResourceMetaError(`field "seconds" must be from 0 to ${MAX_SLEEP_SECONDS}, got ${seconds}`);
  }
  if (!Number.isSafeInteger(started_at_ms) || started_at_ms < 0 || started_at_ms > Date.now() + MAX_CLOCK_SKEW_MS) {
    throw new ResourceMetaError(`field "started_at_ms" must be epoch milliseconds no later than now, got ${started_at_ms}`);
  }
  return { seconds, started_at_ms };
}

/**
 * A demo connector with no external dependency: RUNNING until `seconds` (an int or float input) have passed
 * since create, then SUCCEEDED. It keeps nothing in memory — any replica can answer for any task — and its
 * logs come in pages, one line per elapsed second, to show GetTaskLogs paging.
 */
export class SleepConnector extends AsyncConnector<SleepMeta> {
  readonly name = "Sleep Connector";
  readonly taskTypeName = "sleep";
  override readonly metadata = jsonResourceMeta<SleepMeta>({ parse: parseSleepMeta });

  async create(request: CreateRequest): Promise<SleepMeta> {
    const raw = request.inputs["seconds"];
    const seconds = typeof raw === "bigint" ? Number(raw) : raw;
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_SLEEP_SECONDS) {
      throw new InvalidTaskError(`sleep needs an input "seconds" that is a number from 0 to ${MAX_SLEEP_SECONDS}, got ${describe(raw)}`);
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

  /**
   * Pages of `lines` lines (default 10, at most {@link MAX_LOG_PAGE_LINES}): "second N" for every whole
   * second slept, then "done" once finished. Only the page asked for is built: line N is computed from N.
   */
  override async *getLogs(meta: SleepMeta, request: LogsRequest): AsyncIterable<LogsPage> {
    const elapsedS = (Date.now() - meta.started_at_ms) / 1000;
    const done = elapsedS >= meta.seconds;
    const seconds = Math.floor(Math.max(0, Math.min(elapsedS, meta.seconds)));
    const total = seconds + (done ? 1 : 0);
    const lineAt = (i: number): LogEntry =>
      i < seconds
        ? { message: `second ${i + 1} of ${meta.seconds}`, timestamp: new Date(meta.started_at_ms + (i + 1) * 1000), originator: "SYSTEM" }
        : { message: `done after ${meta.seconds} s`, timestamp: new Date(meta.started_at_ms + meta.seconds * 1000), originator: "SYSTEM" };
    const pageSize = request.lines > 0 ? Math.min(request.lines, MAX_LOG_PAGE_LINES) : 10;
    const from = request.token === "" ? 0 : Number(request.token);
    if (!/^\d{0,16}$/.test(request.token) || !Number.isSafeInteger(from) || from < 0)
      throw new InvalidTaskError(`bad log token ${JSON.stringify(request.token)}`);
    const to = Math.min(total, from + pageSize);
    const lines: LogEntry[] = [];
    for (let i = from; i < to; i++) lines.push(lineAt(i));
    yield { lines, nextToken: to < total ? String(to) : undefined };
  }
}

function describe(v: unknown): string {
  return v === undefined ? "nothing" : typeof v === "string" ? JSON.stringify(v) : `${typeof v} ${String(v)}`;
}
