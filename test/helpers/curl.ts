import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface CurlResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly httpVersion: string;
}

/** Runs the real curl binary and returns the final response's status, headers and body. */
export async function curl(args: readonly string[]): Promise<CurlResult> {
  const marker = "\n--curl-meta--";
  const { stdout } = await run("curl", ["-sS", "-D", "-", "-w", `${marker}%{http_code} %{http_version}`, ...args], { maxBuffer: 64 * 1024 * 1024 });
  const at = stdout.lastIndexOf(marker);
  const [statusText, httpVersion] = stdout.slice(at + marker.length).split(" ") as [string, string];
  const raw = stdout.slice(0, at);
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split);
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusText), headers, body: raw.slice(split + 4), httpVersion };
}

/** A Connect JSON unary call with curl, as a script would make it. */
export function curlConnect(baseUrl: string, path: string, body: unknown, extra: readonly string[] = []): Promise<CurlResult> {
  return curl(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", JSON.stringify(body), ...extra, `${baseUrl}${path}`]);
}
