import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/health/v1/health_pb.js";
import { connectUnary, type UnaryHandlers, type UnaryService } from "./rpc-handlers.js";

export { ServingStatus };

/**
 * The serving status of the whole server ("") and of each service, as `grpc.health.v1.Health` reports it.
 * Kubernetes' gRPC readiness probe asks for "" (docs/flyte-executor.md §3.5).
 */
export interface HealthStatus {
  get(service: string): ServingStatus | undefined;
  set(service: string, status: ServingStatus): void;
  /** Every known service becomes NOT_SERVING; used when the server starts to drain. */
  setAllNotServing(): void;
  /** Calls `listener` after every change; returns the function that stops it. */
  onChange(listener: () => void): () => void;
}

/** A health registry where "" and the given services are SERVING. */
export function createHealthStatus(services: readonly string[]): HealthStatus {
  const statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  for (const s of services) statuses.set(s, ServingStatus.SERVING);
  const listeners = new Set<() => void>();
  const status: HealthStatus = {
    get: (service) => statuses.get(service),
    set(service, value) {
      if (statuses.get(service) === value) return;
      statuses.set(service, value);
      for (const l of listeners) l();
    },
    setAllNotServing() {
      for (const service of statuses.keys()) status.set(service, ServingStatus.NOT_SERVING);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return status;
}

/** Options of {@link createHealthService}. */
export interface HealthServiceOptions {
  /** Watch streams open at once; more get RESOURCE_EXHAUSTED. 0 or absent: no limit. */
  readonly maxWatchStreams?: number;
  readonly onWatchRefused?: () => void;
}

/** `grpc.health.v1.Health`: Check for both transports, Watch for connect. */
export interface HealthService extends UnaryService<typeof Health> {
  readonly handlers: Pick<UnaryHandlers<typeof Health>, "check">;
  /** Check and Watch; List is not served (UNIMPLEMENTED). */
  readonly connect: Partial<ServiceImpl<typeof Health>>;
}

/**
 * `grpc.health.v1.Health` (Check and Watch) for a {@link HealthStatus}. When `drainStarted` fires, open
 * Watch streams send the last status and end with UNAVAILABLE, so they do not hold the drain up. Health
 * needs no token, so Watch streams, which stay open for hours, have a limit of their own.
 */
export function createHealthService(status: HealthStatus, drainStarted: AbortSignal, options: HealthServiceOptions = {}): HealthService {
  let watching = 0;
  const maxWatchStreams = options.maxWatchStreams ?? 0;
  const handlers: HealthService["handlers"] = {
    check(req) {
      const value = status.get(req.service);
      if (value === undefined) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return { status: value };
    },
  };
  return {
    service: Health,
    handlers,
    connect: {
      check: connectUnary(handlers.check),
      // The health protocol: an unknown service is SERVICE_UNKNOWN (not an error), and the stream stays
      // open, sending each change, until the client leaves or the server stops.
      async *watch(req, ctx: HandlerContext) {
        if (maxWatchStreams > 0 && watching >= maxWatchStreams) {
          options.onWatchRefused?.();
          throw new ConnectError(`server is at its limit of ${maxWatchStreams} health Watch streams; use Check, or try again later`, Code.ResourceExhausted);
        }
        watching++;
        let wake: (() => void) | undefined;
        let changed = false;
        const stop = status.onChange(() => {
          changed = true;
          wake?.();
        });
        const signal = AbortSignal.any([ctx.signal, drainStarted]);
        const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        try {
          let last: ServingStatus | undefined;
          for (;;) {
            const current = status.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
            if (current !== last) {
              last = current;
              yield { status: current };
            }
            if (signal.aborted) break;
            if (!changed) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
            changed = false;
          }
          throw signal.reason;
        } finally {
          watching--;
          stop();
        }
      },
    },
  };
}
