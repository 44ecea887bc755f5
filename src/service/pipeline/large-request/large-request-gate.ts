import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Options of {@link createLargeRequestGate}. */
export interface LargeRequestGateOptions {
  /** Bodies of at least this many bytes are large. */
  readonly thresholdBytes: number;
  /** Large bodies being read, decoded and converted at once; more are refused before they are read. 0: no limit. */
  readonly maxConcurrent: number;
  readonly onRefused?: () => void;
}

/** Admission of large request bodies: a slot is held from before the body is read until the call ends. */
export interface LargeRequestGate {
  /** A release function when a slot is free (call it exactly once when the call ends), `undefined` when not. */
  tryEnter(bodyBytes: number): (() => void) | undefined;
  /** Large bodies admitted now. */
  readonly active: number;
}

/**
 * Decoding and converting a maximum-size request takes seconds of CPU; two or three at once would keep every
 * other call waiting for that long. So only `maxConcurrent` large bodies are taken at a time, and the next one
 * is refused with RESOURCE_EXHAUSTED before a byte of it is read: the client retries, the service stays
 * responsive. Small bodies are never counted.
 */
export function createLargeRequestGate(options: LargeRequestGateOptions): LargeRequestGate {
  let active = 0;
  return {
    tryEnter(bodyBytes) {
      if (bodyBytes < options.thresholdBytes) return () => {};
      if (options.maxConcurrent > 0 && active >= options.maxConcurrent) {
        options.onRefused?.();
        return undefined;
      }
      active++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
      };
    },
    get active() {
      return active;
    },
  };
}

/** The refusal's message, on the connect path and the gRPC fast path alike. */
export const LARGE_REQUEST_BUSY = "server is busy with other large requests; try again shortly";

/**
 * The gate on connect's path, as an `onRequest` hook: a large body is refused before it costs anything by
 * its declared `content-length` (curl, browsers and connect-node over HTTP/1.1 always send it). A body sent
 * without one (a gRPC client on HTTP/2) takes its slot in the read-ahead (src/service/transport/read-ahead.ts)
 * once its envelope's length is known, as the gRPC fast path does. The refusal is RESOURCE_EXHAUSTED in the
 * caller's protocol.
 */
export function gateLargeRequests(app: FastifyInstance, gate: LargeRequestGate): void {
  app.addHook("onRequest", (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (!Number.isFinite(declared) || declared <= 0) {
      done();
      return;
    }
    const release = gate.tryEnter(declared);
    if (release) {
      reply.raw.once("close", release);
      done();
      return;
    }
    const contentType = String(req.headers["content-type"] ?? "");
    if (contentType.startsWith("application/grpc")) {
      // Trailers-only: the status travels in the headers, for gRPC and gRPC-Web alike.
      void reply
        .code(200)
        .headers({ "content-type": contentType, "grpc-status": "8", "grpc-message": encodeURIComponent(LARGE_REQUEST_BUSY) })
        .send();
    } else {
      void reply
        .code(429)
        .header("content-type", "application/json")
        .send(JSON.stringify({ code: "resource_exhausted", message: LARGE_REQUEST_BUSY }));
    }
  });
}
