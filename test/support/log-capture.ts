import { Writable } from "node:stream";
import { createLogger, type Logger, type LogLevel } from "../../src/log/logger.js";

/** The service's real logger (pino, redaction and all), writing into memory instead of stdout. */
export interface CapturedLogs {
  readonly log: Logger;
  /** Every line written so far, as text (empty when lines are not retained). */
  lines(): string[];
  /** Every line, parsed. */
  records(): Array<Record<string, unknown>>;
  /** Lines written so far, retained or not. */
  count(): number;
}

/** Options of {@link captureLogs}. */
export interface CaptureOptions {
  /** Keep the lines (default true); a long load passes false and looks at each line in `onLine`. */
  readonly retain?: boolean;
  readonly onLine?: (line: string) => void;
}

export function captureLogs(level: LogLevel = "debug", options: CaptureOptions = {}): CapturedLogs {
  const kept: string[] = [];
  let partial = "";
  let count = 0;
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        if (line === "") continue;
        count++;
        options.onLine?.(line);
        if (options.retain ?? true) kept.push(line);
      }
      done();
    },
  });
  const log = createLogger({ level, destination });
  return { log, lines: () => [...kept], records: () => kept.map((l) => JSON.parse(l) as Record<string, unknown>), count: () => count };
}
