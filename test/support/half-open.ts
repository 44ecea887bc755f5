import { execFileSync } from "node:child_process";
import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import { create, toBinary } from "@bufbuild/protobuf";
import { Health, HealthCheckRequestSchema } from "../../src/gen/health/v1/health_pb.js";
import { grpcFrame } from "./raw-clients.js";

/** Sockets of this process's listening `port` that the peer closed and we did not: `ss` state CLOSE-WAIT. */
export function closeWaitCount(port: number): number {
  const out = execFileSync("ss", ["-tanH", "state", "close-wait", `( sport = :${port} )`], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.trim() !== "").length;
}

/** A client holding a health Watch open on its own connection, with a hand on the raw socket. */
export interface WatchingClient {
  /** Resolves when the server ended the Watch stream (or the connection). */
  readonly ended: Promise<void>;
  /** Sends FIN on the socket, as a client that goes away without GOAWAY does; the socket stays readable. */
  finWithoutGoaway(): void;
  destroy(): void;
}

/**
 * Opens an HTTP/2 connection (h2c, or TLS with ALPN h2 when `ca` is given) over a socket the caller controls,
 * starts a health Watch and resolves once the first status arrived.
 */
export function watchingClient(url: string, options: { ca?: string } = {}): Promise<WatchingClient> {
  const u = new URL(url);
  let socket: net.Socket | undefined;
  const session = http2.connect(url, {
    createConnection: () => {
      socket = options.ca
        ? tls.connect({ host: u.hostname, port: Number(u.port), ca: options.ca, ALPNProtocols: ["h2"], servername: "localhost" })
        : net.connect({ host: u.hostname, port: Number(u.port), allowHalfOpen: true });
      return socket;
    },
  });
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": `/${Health.typeName}/Watch`,
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => {});
  stream.end(grpcFrame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" }))));
  const ended = new Promise<void>((resolve) => {
    stream.once("close", () => resolve());
    session.once("close", () => resolve());
  });
  return new Promise((resolve, reject) => {
    stream.once("data", () =>
      resolve({
        ended,
        finWithoutGoaway: () => socket?.end(),
        destroy: () => session.destroy(),
      }),
    );
    stream.once("close", () => reject(new Error("the Watch stream closed before its first status")));
  });
}
