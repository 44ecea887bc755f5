import { spawn } from "node:child_process";
import path from "node:path";
import * as http2 from "node:http2";

/** Options of {@link headersFlood}. */
export interface FloodOptions {
  readonly durationMs: number;
  /** HEADERS frames sent on each short connection before it is dropped. */
  readonly streamsPerConnection: number;
  /** Reset each stream right after its HEADERS (the HTTP/2 rapid-reset pattern). */
  readonly reset: boolean;
  /** Connections flooding at once. */
  readonly parallel: number;
  readonly headers: http2.OutgoingHttpHeaders;
  /** How long each connection stays after its last HEADERS; default 20 ms. */
  readonly holdMs?: number;
}

/** What a flood did. */
export interface FloodResult {
  readonly connections: number;
  readonly streams: number;
  /** Connections the server ended with GOAWAY ENHANCE_YOUR_CALM. */
  readonly calmed: number;
}

/**
 * A cheap flood, as an attacker writes it: short h2c connections, each sending many HEADERS without a body
 * (and, with `reset`, an RST_STREAM right after each), then dropped, for `durationMs`.
 */
export async function headersFlood(url: string, options: FloodOptions): Promise<FloodResult> {
  const until = Date.now() + options.durationMs;
  let connections = 0;
  let streams = 0;
  let calmed = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const session = http2.connect(url, { settings: { initialWindowSize: 65_535 } });
      connections++;
      session.on("error", () => {});
      session.on("goaway", (code: number) => {
        if (code === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM) calmed++;
      });
      session.once("close", () => resolve());
      session.once("connect", () => {
        for (let i = 0; i < options.streamsPerConnection && !session.destroyed && !session.closed; i++) {
          let req: http2.ClientHttp2Stream;
          try {
            req = session.request({ ":method": "POST", ...options.headers }, { endStream: false });
          } catch {
            break;
          }
          streams++;
          req.on("error", () => {});
          if (options.reset) req.close(http2.constants.NGHTTP2_CANCEL);
        }
        // Give the frames a moment to leave, then drop the connection without waiting for anything.
        setTimeout(() => session.destroy(), options.holdMs ?? 20);
      });
    });
  const loop = async () => {
    while (Date.now() < until) await one();
  };
  await Promise.all(Array.from({ length: options.parallel }, loop));
  return { connections, streams, calmed };
}

/**
 * {@link headersFlood} in a child process, so that the flood is not slowed by (and does not slow) the
 * service's own event loop in the test process.
 */
export function headersFloodInChild(url: string, options: FloodOptions): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "flood-cli.ts"), url, JSON.stringify(options)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`the flood client exited with ${code}`));
      else resolve(JSON.parse(out) as FloodResult);
    });
  });
}
