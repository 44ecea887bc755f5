import { Writable } from "node:stream";
import { createLogger, type Logger, type LogLevel } from "../../../src/log/logger.js";

/** The service's real logger (pino, redaction and all), writing into memory instead of stdout. */
export interface CapturedLogs {
  readonly log: Logger;
  /** Every line written so far, as text. */
  lines(): string[];
  /** Every line, parsed. */
  records(): Array<Record<string, unknown>>;
}

export function captureLogs(level: LogLevel = "debug"): CapturedLogs {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ level, destination });
  const lines = () => chunks.join("").split("\n").filter((l) => l !== "");
  return { log, lines, records: () => lines().map((l) => JSON.parse(l) as Record<string, unknown>) };
}
