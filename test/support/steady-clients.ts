import * as grpc from "@grpc/grpc-js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health } from "../../src/gen/health/v1/health_pb.js";
import { grpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest, INTEGER, intLiteral } from "./tasks.js";

/** The calls a normal client makes: what the executor and the kubelet send. */
export const STEADY_METHODS = ["Check", "GetTask", "CreateTask"] as const;
export type SteadyMethod = (typeof STEADY_METHODS)[number];

/** One method's calls: how many were sent, how many answered OK, how long each OK one took. */
export interface MethodTally {
  readonly sent: number;
  readonly ok: number;
  /** `CODE: details` of each call that failed. */
  readonly failures: readonly string[];
  /** Milliseconds, in the order the calls ended. */
  readonly latencies: readonly number[];
}

/** Options of {@link startSteadyClients}. */
export interface SteadyOptions {
  /** Each client starts a call this often (or as soon as the previous one ends, if it took longer). */
  readonly intervalMs: number;
  /** Each call's deadline; default 10 s, as the executor's. */
  readonly timeoutMs?: number;
}

/** Running normal clients; `stop` ends their loops and returns what each method got. */
export interface SteadyClients {
  stop(): Promise<Record<SteadyMethod, MethodTally>>;
}

/**
 * Normal clients beside whatever else a test or benchmark does: one grpc-js client per method, each over its
 * own connection (a local subchannel pool), calling health Check, GetTask of a sleep task and CreateTask of a
 * small sleep task at a moderate, steady rate, and counting every call sent and answered.
 */
export async function startSteadyClients(address: string, options: SteadyOptions): Promise<SteadyClients> {
  const own = { channelOptions: { "grpc.use_local_subchannel_pool": 1 } };
  const health = grpcJsClient(Health, address, own);
  const getter = grpcJsClient(AsyncConnectorService, address, own);
  const creator = grpcJsClient(AsyncConnectorService, address, own);
  const create = createTaskRequest({ type: "sleep", inputs: { seconds: { type: INTEGER, literal: intLiteral(3600) } } });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { resourceMeta } = await creator.createTask(create, { timeoutMs });
  const get = { taskCategory: { name: "sleep", version: 0 }, resourceMeta, outputPrefix: "s3://bucket/ab/run-1/a0/0" };
  const calls: Record<SteadyMethod, () => Promise<unknown>> = {
    Check: () => health.check({ service: "" }, { timeoutMs }),
    GetTask: () => getter.getTask(get, { timeoutMs }),
    CreateTask: () => creator.createTask(create, { timeoutMs }),
  };
  await Promise.all(STEADY_METHODS.map((m) => calls[m]()));

  let stopped = false;
  const loop = async (call: () => Promise<unknown>): Promise<MethodTally> => {
    let sent = 0;
    let ok = 0;
    const failures: string[] = [];
    const latencies: number[] = [];
    while (!stopped) {
      const started = performance.now();
      sent++;
      try {
        await call();
        ok++;
        latencies.push(performance.now() - started);
      } catch (e) {
        const err = e as Partial<grpc.ServiceError>;
        failures.push(`${err.code === undefined ? "?" : grpc.status[err.code]}: ${err.details ?? String(e)}`);
      }
      const wait = started + options.intervalMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return { sent, ok, failures, latencies };
  };
  const running = STEADY_METHODS.map((m) => loop(calls[m]));
  return {
    async stop() {
      stopped = true;
      const tallies = await Promise.all(running);
      for (const c of [health, getter, creator]) c.close();
      return Object.fromEntries(STEADY_METHODS.map((m, i) => [m, tallies[i]!])) as Record<SteadyMethod, MethodTally>;
    },
  };
}

/** The `p`-th percentile (0–100) of some latencies; NaN for none. */
export function percentile(latencies: readonly number[], p: number): number {
  if (latencies.length === 0) return Number.NaN;
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}
