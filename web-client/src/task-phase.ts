import { TaskExecution_Phase } from "../../vendor/flyteidl2/flyteidl2/core/execution_pb.js";

/** The phases after which a task does not change any more: polling can stop. */
const TERMINAL: ReadonlySet<TaskExecution_Phase> = new Set([
  TaskExecution_Phase.SUCCEEDED,
  TaskExecution_Phase.FAILED,
  // Terminal for this attempt: the executor starts a new task (new resource metadata) to retry.
  TaskExecution_Phase.RETRYABLE_FAILED,
  TaskExecution_Phase.ABORTED,
]);

/** Whether a task in this phase is finished. */
export function isTerminalPhase(phase: TaskExecution_Phase): boolean {
  return TERMINAL.has(phase);
}

/** The phase's Flyte name, such as `"RUNNING"`, for display; unknown numbers come back as `"PHASE_<n>"`. */
export function phaseName(phase: TaskExecution_Phase): string {
  return TaskExecution_Phase[phase] ?? `PHASE_${phase}`;
}
