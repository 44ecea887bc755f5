import { databricksMessage, databricksPhase } from "../../../src/connectors/databricks/databricks-run-state.js";

// The Jobs API's documented enums (RunLifeCycleState, RunResultState).
const LIFE_CYCLE = ["QUEUED", "PENDING", "RUNNING", "TERMINATING", "TERMINATED", "SKIPPED", "INTERNAL_ERROR", "BLOCKED", "WAITING_FOR_RETRY"];
const RESULT = [
  "SUCCESS",
  "FAILED",
  "TIMEDOUT",
  "CANCELED",
  "MAXIMUM_CONCURRENT_RUNS_REACHED",
  "EXCLUDED",
  "SUCCESS_WITH_FAILURES",
  "UPSTREAM_FAILED",
  "UPSTREAM_CANCELED",
  "DISABLED",
];

describe("Databricks run states", () => {
  test("every documented life-cycle and result state maps to a phase it knows", () => {
    const table: Record<string, string> = {};
    for (const life of LIFE_CYCLE.filter((l) => l !== "TERMINATED")) {
      const d = databricksPhase({ life_cycle_state: life });
      expect(d.known).toBe(true);
      table[life] = d.phase;
    }
    for (const result of RESULT) {
      const d = databricksPhase({ life_cycle_state: "TERMINATED", result_state: result });
      expect(d.known).toBe(true);
      table[`TERMINATED ${result}`] = d.phase;
    }
    expect(table).toEqual({
      QUEUED: "QUEUED",
      PENDING: "INITIALIZING",
      RUNNING: "RUNNING",
      TERMINATING: "RUNNING",
      SKIPPED: "FAILED",
      INTERNAL_ERROR: "RETRYABLE_FAILED",
      BLOCKED: "WAITING_FOR_RESOURCES",
      WAITING_FOR_RETRY: "RUNNING",
      "TERMINATED SUCCESS": "SUCCEEDED",
      "TERMINATED FAILED": "FAILED",
      "TERMINATED TIMEDOUT": "FAILED",
      "TERMINATED CANCELED": "ABORTED",
      "TERMINATED MAXIMUM_CONCURRENT_RUNS_REACHED": "RETRYABLE_FAILED",
      "TERMINATED EXCLUDED": "FAILED",
      "TERMINATED SUCCESS_WITH_FAILURES": "SUCCEEDED",
      "TERMINATED UPSTREAM_FAILED": "FAILED",
      "TERMINATED UPSTREAM_CANCELED": "ABORTED",
      "TERMINATED DISABLED": "FAILED",
    });
  });

  test("what Databricks does not document is never an exception: terminal stays terminal, the rest keeps polling", () => {
    expect(databricksPhase({ life_cycle_state: "TERMINATED" })).toEqual({ phase: "FAILED", known: false });
    expect(databricksPhase({ life_cycle_state: "TERMINATED", result_state: "SOMETHING_NEW" })).toEqual({ phase: "FAILED", known: false });
    expect(databricksPhase({ life_cycle_state: "SOMETHING_NEW" })).toEqual({ phase: "RUNNING", known: false });
    expect(databricksPhase(undefined)).toEqual({ phase: "RUNNING", known: false });
  });

  test("messages give the states, then Databricks' own words", () => {
    expect(databricksMessage({ life_cycle_state: "TERMINATED", result_state: "FAILED", state_message: "boom" })).toBe("TERMINATED FAILED: boom");
    expect(databricksMessage({ life_cycle_state: "PENDING", state_message: "" })).toBe("PENDING");
    expect(databricksMessage(undefined)).toBe("the run has no state yet");
  });
});
