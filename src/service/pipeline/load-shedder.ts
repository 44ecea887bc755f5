import { constants, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { Code, ConnectError } from "@connectrpc/connect";
import { AgentMetadataService } from "#idl1/flyteidl/service/agent_pb.js";
import { ConnectorMetadataService } from "#idl/flyteidl2/connector/service_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import type { ShedReason } from "./metrics.js";

/** Options of {@link createLoadShedder}. */
export interface LoadShedderOptions {
  /** Calls in flight at once; the next one gets RESOURCE_EXHAUSTED. 0: no limit. */
  readonly maxConcurrentCalls: number;
  /** V8 heap in use above which new calls get UNAVAILABLE. 0: 90 % of V8's heap limit. */
  readonly maxHeapUsedBytes: number;
  /** How often the heap is looked at; default 100 ms. */
  readonly sampleIntervalMs?: number;
  readonly onShed?: (reason: ShedReason) => void;
}

/** The protection a service applies before any work: too many calls, or too little memory. */
export interface LoadShedder {
  /**
   * Counts a new call, or throws when it must be refused. Returns false for services never shed (and then
   * not counted); a counted call must be {@link release}d exactly once when it ends.
   */
  admit(service: string): boolean;
  release(): void;
  /** Calls counted now. */
  readonly inFlight: number;
  /** The heap threshold in force. */
  readonly maxHeapUsedBytes: number;
  /** Stops the heap sampling. */
  stop(): void;
}

/**
 * Services never shed: probes must see the health status, and the executor's ListConnectors poll decides
 * where tasks are routed (a failed poll drops this replica's task types for 10 s, docs/flyte-executor.md §3.4).
 * Both are small and constant-time.
 */
const NEVER_SHED: ReadonlySet<string> = new Set([Health.typeName, ConnectorMetadataService.typeName, AgentMetadataService.typeName]);

/**
 * Refuses new calls before they cost anything when the service is overloaded:
 * - more than `maxConcurrentCalls` calls in flight → RESOURCE_EXHAUSTED;
 * - V8's used heap above `maxHeapUsedBytes`, also after the last full garbage collection → UNAVAILABLE,
 *   which clients treat as "try again, maybe elsewhere", until memory is back under the limit.
 * Calls already running are left alone. The used heap includes garbage not yet collected (V8 lets it grow
 * far before a full collection when the heap limit is large), so a high reading alone is not pressure: the
 * heap must also be over the limit right after the last major GC, i.e. full of live objects. Readings come
 * from an unref'd timer and a GC observer rather than each call: `getHeapStatistics` walks every space.
 */
export function createLoadShedder(options: LoadShedderOptions): LoadShedder {
  const heapLimit = options.maxHeapUsedBytes > 0 ? options.maxHeapUsedBytes : Math.floor(getHeapStatistics().heap_size_limit * 0.9);
  let heapUsed = getHeapStatistics().used_heap_size;
  let liveAfterMajorGc = heapUsed;
  const timer = setInterval(() => {
    heapUsed = getHeapStatistics().used_heap_size;
  }, options.sampleIntervalMs ?? 100);
  timer.unref();
  const gcObserver = new PerformanceObserver((list) => {
    if (list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
      liveAfterMajorGc = heapUsed = getHeapStatistics().used_heap_size;
    }
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  let inFlight = 0;

  const shed = (reason: ShedReason, err: ConnectError): never => {
    options.onShed?.(reason);
    throw err;
  };

  return {
    admit(service) {
      if (NEVER_SHED.has(service)) return false;
      if (options.maxConcurrentCalls > 0 && inFlight >= options.maxConcurrentCalls) {
        shed("max_concurrent_calls", new ConnectError(`server is at its limit of ${options.maxConcurrentCalls} concurrent calls`, Code.ResourceExhausted));
      }
      if (heapUsed > heapLimit && liveAfterMajorGc > heapLimit) shed("heap", new ConnectError("server is low on memory; try again later", Code.Unavailable));
      inFlight++;
      return true;
    },
    release() {
      inFlight--;
    },
    get inFlight() {
      return inFlight;
    },
    maxHeapUsedBytes: heapLimit,
    stop() {
      clearInterval(timer);
      gcObserver.disconnect();
    },
  };
}
