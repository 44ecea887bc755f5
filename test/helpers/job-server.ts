import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real REST job API for tests, in the shape many are: `POST /api/jobs` submits (Bearer token required,
 * `Idempotency-Key` honoured), `GET /api/jobs/:id` reports `{state, error, result}`, and
 * `POST /api/jobs/:id/cancel` cancels. A job is QUEUED briefly, RUNNING for its `run_ms`, then SUCCEEDED
 * (with the sum of its numbers) or FAILED (when submitted with `fail_with`).
 */
export interface JobServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly token: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  readonly jobs: ReadonlyMap<string, Job>;
  /** Answers the next `count` requests with `status` (default 503) instead of handling them. */
  failNext(count: number, status?: number): void;
  /** Holds the answers to the next `count` requests for `ms` milliseconds. */
  delayNext(count: number, ms: number): void;
  /** Stops listening and drops open connections: the API is down (connection refused). */
  stop(): Promise<void>;
  /** Listens again on the same port, with the same jobs. */
  start(): Promise<void>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

export interface Job {
  readonly id: string;
  readonly submitted: Record<string, unknown>;
  readonly createdAt: number;
  cancelled: boolean;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function stateOf(job: Job): { state: string; error?: { message: string }; result?: unknown } {
  const runMs = Number(job.submitted["run_ms"] ?? 300);
  const age = Date.now() - job.createdAt;
  if (job.cancelled) return { state: "CANCELLED" };
  if (age < 50) return { state: "QUEUED" };
  if (age < runMs) return { state: "RUNNING" };
  if (typeof job.submitted["fail_with"] === "string") return { state: "FAILED", error: { message: job.submitted["fail_with"] } };
  const numbers = (job.submitted["numbers"] as number[] | undefined) ?? [];
  return {
    state: "SUCCEEDED",
    result: {
      total: numbers.reduce((a, b) => a + b, 0),
      count: numbers.length,
      items: numbers.map((n) => ({ value: n, square: n * n })),
      label: `sum of ${numbers.length}`,
      finished_at: new Date(job.createdAt + runMs).toISOString(),
    },
  };
}

/** Starts the job API on a free loopback port. */
export async function startJobServer(options: { token?: string } = {}): Promise<JobServer> {
  const token = options.token ?? "job-api-token-s3cr3t";
  const requests: RecordedRequest[] = [];
  const jobs = new Map<string, Job>();
  const byIdempotencyKey = new Map<string, string>();
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let delays: { count: number; ms: number } = { count: 0, ms: 0 };
  let port = 0;

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ method: req.method ?? "", path, headers: req.headers, body });
    if (failures.count > 0) {
      failures.count--;
      return json(res, failures.status, { error: "temporarily unavailable" });
    }
    if (req.headers.authorization !== `Bearer ${token}`) return json(res, 401, { error: "bad token" });
    if (req.method === "POST" && path === "/api/jobs") {
      const key = req.headers["idempotency-key"];
      const known = typeof key === "string" ? byIdempotencyKey.get(key) : undefined;
      if (known) return json(res, 200, { job: { id: known } });
      let submitted: Record<string, unknown>;
      try {
        submitted = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return json(res, 400, { error: "body is not JSON" });
      }
      if (!Array.isArray(submitted["numbers"])) return json(res, 400, { error: "numbers must be a list" });
      const id = `job-${jobs.size + 1}`;
      jobs.set(id, { id, submitted, createdAt: Date.now(), cancelled: false });
      if (typeof key === "string") byIdempotencyKey.set(key, id);
      return json(res, 201, { job: { id }, console: `/console/${id}` });
    }
    const m = /^\/api\/jobs\/([^/]+)(\/cancel)?$/.exec(path);
    const job = m ? jobs.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m) return json(res, 404, { error: "no such route" });
    if (!job) return json(res, 404, { error: "no such job" });
    if (req.method === "GET" && !m[2]) return json(res, 200, { id: job.id, ...stateOf(job) });
    if (req.method === "POST" && m[2]) {
      const { state } = stateOf(job);
      if (state === "SUCCEEDED" || state === "FAILED") return json(res, 409, { error: `job is ${state}` });
      job.cancelled = true;
      return json(res, 200, { id: job.id, state: "CANCELLED" });
    }
    return json(res, 405, { error: "method not allowed" });
  };

  let server: Server | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const body = Buffer.concat(chunks).toString();
          if (delays.count > 0) {
            delays.count--;
            setTimeout(() => {
              if (!res.destroyed) handle(req, res, body);
            }, delays.ms);
          } else {
            handle(req, res, body);
          }
        });
      });
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      if (!s) return resolve();
      s.close(() => resolve());
      s.closeAllConnections();
    });

  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    jobs,
    failNext(count, status = 503) {
      failures = { count, status };
    },
    delayNext(count, ms) {
      delays = { count, ms };
    },
    stop,
    start,
  };
}
