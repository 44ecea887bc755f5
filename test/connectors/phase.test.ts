import { isTerminalPhase, phaseFromState, PHASES } from "../../src/connectors/phase.js";

test("Python's state table, case-insensitively, plus RETRYABLE_FAILED for internal errors", () => {
  const table: Record<string, string> = {
    FAILED: "FAILED",
    Timeout: "FAILED",
    timedout: "FAILED",
    skipped: "FAILED",
    INTERNAL_ERROR: "RETRYABLE_FAILED",
    done: "SUCCEEDED",
    SUCCEEDED: "SUCCEEDED",
    success: "SUCCEEDED",
    Completed: "SUCCEEDED",
    running: "RUNNING",
    TERMINATING: "RUNNING",
    pending: "INITIALIZING",
    cancelled: "ABORTED",
    canceled: "ABORTED",
    queued: "QUEUED",
  };
  for (const [state, phase] of Object.entries(table)) expect(phaseFromState(state)).toEqual({ phase, known: true });
});

test("an unknown or missing state is RUNNING and marked unknown, never an exception", () => {
  expect(phaseFromState("MAXIMUM_CONCURRENT_RUNS_REACHED")).toEqual({ phase: "RUNNING", known: false });
  expect(phaseFromState(undefined)).toEqual({ phase: "RUNNING", known: false });
  expect(phaseFromState("constructor")).toEqual({ phase: "RUNNING", known: false });
});

test("a custom table replaces the default", () => {
  expect(phaseFromState("GREEN", { green: "SUCCEEDED" })).toEqual({ phase: "SUCCEEDED", known: true });
  expect(phaseFromState("failed", { green: "SUCCEEDED" }).known).toBe(false);
});

test("terminal phases are the executor's, RETRYABLE_FAILED included", () => {
  expect(PHASES.filter(isTerminalPhase)).toEqual(["SUCCEEDED", "FAILED", "RETRYABLE_FAILED", "ABORTED"]);
});
