import type { Phase } from "../phase.js";

/** `runs/get`'s `state` (Jobs API 2.1 RunState). */
export interface DatabricksRunState {
  readonly life_cycle_state?: string;
  readonly result_state?: string;
  readonly state_message?: string;
}

/**
 * Every `life_cycle_state` of the Jobs API. TERMINATED is decided by the result state below. The Python
 * connector raises on QUEUED, BLOCKED and WAITING_FOR_RETRY, which become INTERNAL errors that use up the
 * executor's system-failure budget.
 */
const LIFE_CYCLE: Readonly<Record<string, Phase>> = {
  QUEUED: "QUEUED",
  PENDING: "INITIALIZING",
  RUNNING: "RUNNING",
  TERMINATING: "RUNNING",
  // Waiting for an upstream run or a concurrency slot: the platform's resources, not ours.
  BLOCKED: "WAITING_FOR_RESOURCES",
  // Databricks retries the run itself; it is still in progress.
  WAITING_FOR_RETRY: "RUNNING",
  SKIPPED: "FAILED",
  INTERNAL_ERROR: "RETRYABLE_FAILED",
};

/** Every `result_state` of a TERMINATED run. The Python connector raises on the last six. */
const RESULT: Readonly<Record<string, Phase>> = {
  SUCCESS: "SUCCEEDED",
  FAILED: "FAILED",
  TIMEDOUT: "FAILED",
  CANCELED: "ABORTED",
  // A single-task run's task succeeded; some other part (a cleanup) did not.
  SUCCESS_WITH_FAILURES: "SUCCEEDED",
  // Skipped because the job ran at its concurrency limit: running it again can succeed.
  MAXIMUM_CONCURRENT_RUNS_REACHED: "RETRYABLE_FAILED",
  EXCLUDED: "FAILED",
  UPSTREAM_FAILED: "FAILED",
  UPSTREAM_CANCELED: "ABORTED",
  DISABLED: "FAILED",
};

/** The phase of a run and whether its state was one Databricks documents. */
export function databricksPhase(state: DatabricksRunState | undefined): { phase: Phase; known: boolean } {
  const life = state?.life_cycle_state;
  if (life === "TERMINATED") {
    const result = state?.result_state;
    if (result === undefined) return { phase: "FAILED", known: false };
    const phase = RESULT[result];
    return phase ? { phase, known: true } : { phase: "FAILED", known: false };
  }
  const phase = life === undefined ? undefined : LIFE_CYCLE[life];
  return phase ? { phase, known: true } : { phase: "RUNNING", known: false };
}

/** `TERMINATED FAILED: Task failed with error: …`, the states first, then Databricks' own message. */
export function databricksMessage(state: DatabricksRunState | undefined): string {
  if (!state?.life_cycle_state) return "the run has no state yet";
  const states = [state.life_cycle_state, state.result_state].filter((s) => s !== undefined && s !== "").join(" ");
  return state.state_message ? `${states}: ${state.state_message}` : states;
}
