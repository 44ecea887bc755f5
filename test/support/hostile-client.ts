import { spawn } from "node:child_process";
import * as http2 from "node:http2";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { GetTaskLogsRequestSchema } from "#idl/flyteidl2/connector/connector_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { headersFlood } from "./flood.js";
import { watchingClient } from "./half-open.js";
import { maxSizeMapCreateTask } from "./large-requests.js";
import { grpcFrame, rawGrpcCall } from "./raw-clients.js";

/** The kinds of abuse {@link runHostileClient} commits. */
export const HOSTILE_PARTS = ["zeroWindow", "fin", "reset", "maxSize"] as const;
export type HostilePart = (typeof HOSTILE_PARTS)[number];

/** Options of {@link runHostileClient}. */
export interface HostileOptions {
  readonly durationMs: number;
  /** Which kinds of abuse; default all of them (a benchmark takes them apart to see what costs). */
  readonly parts?: readonly HostilePart[];
  /** A new zero-window connection this often, holding `zeroWindowStreams` GetTaskLogs streams it never reads. */
  readonly zeroWindowEveryMs?: number;
  readonly zeroWindowStreams?: number;
  /** How long each zero-window connection stays before the client drops it. */
  readonly zeroWindowHoldMs?: number;
  /** A client that opens a health Watch and closes with FIN and no GOAWAY this often. */
  readonly finEveryMs?: number;
  /** A burst of HEADERS + RST_STREAM (rapid reset) this often, `resetStreams` streams on a fresh connection. */
  readonly resetEveryMs?: number;
  readonly resetStreams?: number;
  /** A maximum-size CreateTask (4 MiB by default, a literal map of 200k entries) this often. */
  readonly maxSizeEveryMs?: number;
  /** The service's message limit, when it is not the default 4 MiB: the "maximum size" sent is just under it. */
  readonly maxMessageBytes?: number;
}

/** What the hostile client did, and what the server answered to its maximum-size requests. */
export interface HostileResult {
  readonly zeroWindowConnections: number;
  readonly zeroWindowStreams: number;
  readonly finClients: number;
  /** FIN clients whose Watch the server ended (it closed its side) before the client gave up on it. */
  readonly finEndedByServer: number;
  readonly resetStreams: number;
  readonly maxSizeSent: number;
  /**
   * gRPC status → count, for the maximum-size CreateTasks (8: refused by the large-request gate), or
   * `reset <HTTP/2 code>` when the stream was reset before a status reached the client.
   */
  readonly maxSizeAnswers: Readonly<Record<string, number>>;
}

const LOGS_PATH = `/${AsyncConnectorService.typeName}/GetTaskLogs`;
const CREATE_PATH = `/${AsyncConnectorService.typeName}/CreateTask`;
const GRPC = { "content-type": "application/grpc", te: "trailers" };

/**
 * A GetTaskLogs for an hour-old sleep task, a page of 10 lines: a zero window lets no byte of it through.
 * (The largest page, 1000 lines, costs the service milliseconds to build: asking for it at will is a CPU
 * flood, which the stream-rate limits answer, not a stuck stream.)
 */
function logsRequest(): Buffer {
  const meta = JSON.stringify({ seconds: 3600, started_at_ms: Date.now() - 3_600_000 });
  const request = create(GetTaskLogsRequestSchema, {
    taskCategory: { name: "sleep", version: 0 },
    resourceMeta: new TextEncoder().encode(meta),
    lines: 10n,
  });
  return grpcFrame(toBinary(GetTaskLogsRequestSchema, request));
}

/** Repeats `once` every `everyMs` until `until` (not waiting for it), then waits for the ones still running. */
async function every(everyMs: number, until: number, once: () => Promise<void>): Promise<void> {
  const running: Promise<void>[] = [];
  while (Date.now() < until) {
    running.push(once().catch(() => {}));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await Promise.all(running);
}

/**
 * A hostile client, as issue 11 lists it, for `durationMs` from `onStarted` (building its maximum-size request
 * comes first): connections with SETTINGS_INITIAL_WINDOW_SIZE=0
 * whose GetTaskLogs streams it never reads (then it drops them), clients that leave with FIN and no GOAWAY,
 * rapid RST_STREAM bursts, and a maximum-size CreateTask every second. Every part runs at once.
 */
export async function runHostileClient(url: string, options: HostileOptions, onStarted: () => void = () => {}): Promise<HostileResult> {
  const parts = new Set(options.parts ?? HOSTILE_PARTS);
  const maxBytes = options.maxMessageBytes === undefined ? undefined : options.maxMessageBytes - 1024;
  const maxSizeFrame = parts.has("maxSize") ? grpcFrame(maxSizeMapCreateTask(maxBytes).bytes) : Buffer.alloc(0);
  const until = Date.now() + options.durationMs;
  onStarted();
  let zeroWindowConnections = 0;
  let zeroWindowStreams = 0;
  let finClients = 0;
  let finEndedByServer = 0;
  let resetStreams = 0;
  let maxSizeSent = 0;
  const maxSizeAnswers: Record<string, number> = {};

  const zeroWindow = async () => {
    const session = http2.connect(url, { settings: { initialWindowSize: 0 } });
    session.on("error", () => {});
    zeroWindowConnections++;
    const body = logsRequest();
    for (let i = 0; i < (options.zeroWindowStreams ?? 10); i++) {
      const stream = session.request({ ":method": "POST", ":path": LOGS_PATH, ...GRPC });
      stream.on("error", () => {});
      stream.end(body);
      zeroWindowStreams++;
    }
    await new Promise((r) => setTimeout(r, options.zeroWindowHoldMs ?? 1_000));
    session.destroy();
  };

  const finWithoutGoaway = async () => {
    const client = await watchingClient(url);
    finClients++;
    client.finWithoutGoaway();
    const ended = await Promise.race([client.ended.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
    if (ended) finEndedByServer++;
    client.destroy();
  };

  const rapidReset = async () => {
    const result = await headersFlood(url, {
      durationMs: 1,
      streamsPerConnection: options.resetStreams ?? 200,
      reset: true,
      parallel: 1,
      headers: { ":path": `/${AsyncConnectorService.typeName}/GetTask`, ...GRPC },
    });
    resetStreams += result.streams;
  };

  const maxSizeRequest = async () => {
    const session = http2.connect(url);
    session.on("error", () => {});
    maxSizeSent++;
    try {
      const answer = await rawGrpcCall(session, CREATE_PATH, maxSizeFrame);
      // A refused request is answered before its body is read and the stream reset to stop the upload; the
      // reset may overtake the answer, and a client that keeps sending has its connection cut (ENHANCE_YOUR_CALM).
      const status = answer.trailers["grpc-status"] ?? answer.headers["grpc-status"] ?? `reset ${answer.rstCode ?? 0}`;
      maxSizeAnswers[status] = (maxSizeAnswers[status] ?? 0) + 1;
    } finally {
      session.destroy();
    }
  };

  await Promise.all([
    parts.has("zeroWindow") && every(options.zeroWindowEveryMs ?? 500, until, zeroWindow),
    parts.has("fin") && every(options.finEveryMs ?? 200, until, finWithoutGoaway),
    parts.has("reset") && every(options.resetEveryMs ?? 250, until, rapidReset),
    parts.has("maxSize") && every(options.maxSizeEveryMs ?? 1_000, until, maxSizeRequest),
  ]);
  return { zeroWindowConnections, zeroWindowStreams, finClients, finEndedByServer, resetStreams, maxSizeSent, maxSizeAnswers };
}

/**
 * {@link runHostileClient} in a child process: its own CPU (building and sending a maximum-size request a second, the
 * floods) is not the service's event loop's when the service runs in the test process. Resolves when it is
 * done; `started` resolves once it has built its request and begun.
 */
export function hostileClientInChild(
  url: string,
  options: HostileOptions,
  // An ES module (the benchmarks) has no __dirname and passes the path.
  cli: string = path.join(__dirname, "hostile-cli.ts"),
  nice = 0,
): { started: Promise<void>; done: Promise<HostileResult> } {
  const args = ["--import", "tsx", cli, url, JSON.stringify(options)];
  // `nice` > 0 runs the attacker below the service's CPU priority, as if it ran on another machine: on a
  // machine of two cores its own CPU otherwise competes with the service it attacks (docs/operations.md).
  const child =
    nice > 0
      ? spawn("nice", ["-n", String(nice), process.execPath, ...args], { stdio: ["ignore", "pipe", "inherit"] })
      : spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  let markStarted: () => void = () => {};
  const started = new Promise<void>((r) => (markStarted = r));
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("\n")) markStarted();
  });
  const done = new Promise<HostileResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      markStarted();
      if (code !== 0) reject(new Error(`the hostile client exited with ${code}`));
      else resolve(JSON.parse(out.slice(out.indexOf("\n") + 1)) as HostileResult);
    });
  });
  return { started, done };
}
