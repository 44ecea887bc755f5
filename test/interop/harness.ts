// Finds the acceptance harness (grpc-go executor-sim and loadgen) and Debian's Python with grpcio, the two
// executor-kind clients that are not npm packages. A Flyte checkout has the harness beside this repo in its
// shared folder (../shared/harness); a bare clone has neither, and the tests and the bench then say so.
import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The harness's client binaries. */
export interface Harness {
  readonly dir: string;
  readonly executorSim: string;
  readonly loadgen: string;
}

/** Either what was found or why not, in words a skipped test or bench table can print. */
export type Lookup<T> = { readonly found: true; readonly value: T } | { readonly found: false; readonly reason: string };

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** `$FLYTE_HARNESS_DIR`, else `../shared/harness` next to the repo. */
export function harnessDir(repoRoot: string): string {
  return process.env["FLYTE_HARNESS_DIR"] || resolve(repoRoot, "../shared/harness");
}

/**
 * Where the harness's build puts its binaries, in the order its own scripts look: `$HARNESS_BIN`, the
 * harness's `bin/`, then `~/.cache/flyte-harness/bin` (used when the harness folder is read-only).
 */
export function harnessBinDirs(dir: string): string[] {
  const cache = join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "flyte-harness/bin");
  return [process.env["HARNESS_BIN"], join(dir, "bin"), cache].filter((d): d is string => !!d);
}

export function findHarness(repoRoot: string): Lookup<Harness> {
  const dir = harnessDir(repoRoot);
  if (!existsSync(dir)) return { found: false, reason: `no acceptance harness at ${dir} (set FLYTE_HARNESS_DIR, or run from a Flyte checkout)` };
  for (const bin of harnessBinDirs(dir)) {
    const executorSim = join(bin, "executor-sim");
    const loadgen = join(bin, "loadgen");
    if (executable(executorSim) && executable(loadgen)) return { found: true, value: { dir, executorSim, loadgen } };
  }
  return { found: false, reason: `the harness at ${dir} is not built (no executor-sim/loadgen in ${harnessBinDirs(dir).join(", ")}; run its build.sh)` };
}

/**
 * Debian's Python with its grpcio and protobuf packages. Always /usr/bin/python3: a pyenv `python3` earlier
 * on PATH cannot see Debian's modules.
 */
export const SYSTEM_PYTHON = "/usr/bin/python3";

export function findSystemGrpcio(): Lookup<{ python: string; grpcio: string }> {
  if (!executable(SYSTEM_PYTHON)) return { found: false, reason: `${SYSTEM_PYTHON} is missing (apt-get install python3-grpcio python3-protobuf)` };
  try {
    const grpcio = execFileSync(SYSTEM_PYTHON, ["-c", "import grpc, google.protobuf; print(grpc.__version__)"], { encoding: "utf8", stdio: "pipe" }).trim();
    return { found: true, value: { python: SYSTEM_PYTHON, grpcio } };
  } catch {
    return { found: false, reason: `${SYSTEM_PYTHON} cannot import grpc and google.protobuf (apt-get install python3-grpcio python3-protobuf)` };
  }
}
