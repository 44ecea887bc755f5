/**
 * The phases a connector reports for a job, spelled as Flyte spells them (flyteidl2.core.TaskExecution.Phase).
 * The service maps them to the proto enum; connectors never see protobuf for this.
 */
export type Phase = "QUEUED" | "WAITING_FOR_RESOURCES" | "INITIALIZING" | "RUNNING" | "SUCCEEDED" | "FAILED" | "RETRYABLE_FAILED" | "ABORTED";

export const PHASES: readonly Phase[] = ["QUEUED", "WAITING_FOR_RESOURCES", "INITIALIZING", "RUNNING", "SUCCEEDED", "FAILED", "RETRYABLE_FAILED", "ABORTED"];

const TERMINAL: ReadonlySet<Phase> = new Set(["SUCCEEDED", "FAILED", "RETRYABLE_FAILED", "ABORTED"]);

/**
 * Whether the executor stops polling a job in this phase. RETRYABLE_FAILED is terminal, as in the Flyte 2
 * executor (flyte PR #7409); the Python helper omits it and its local runner then polls forever.
 */
export function isTerminalPhase(phase: Phase): boolean {
  return TERMINAL.has(phase);
}

/** A state name of an external system and the phase it means. Names are matched case-insensitively. */
export type StateTable = Readonly<Record<string, Phase>>;

/** The Python service's table (flyte.connectors.utils.convert_to_flyte_phase), plus states it lacks. */
export const DEFAULT_STATE_TABLE: StateTable = {
  failed: "FAILED",
  failure: "FAILED",
  error: "FAILED",
  timeout: "FAILED",
  timedout: "FAILED",
  timed_out: "FAILED",
  canceled: "ABORTED",
  cancelled: "ABORTED",
  aborted: "ABORTED",
  skipped: "FAILED",
  internal_error: "RETRYABLE_FAILED",
  done: "SUCCEEDED",
  succeeded: "SUCCEEDED",
  success: "SUCCEEDED",
  completed: "SUCCEEDED",
  complete: "SUCCEEDED",
  finished: "SUCCEEDED",
  running: "RUNNING",
  terminating: "RUNNING",
  in_progress: "RUNNING",
  pending: "INITIALIZING",
  queued: "QUEUED",
  submitted: "QUEUED",
  waiting: "WAITING_FOR_RESOURCES",
  blocked: "WAITING_FOR_RESOURCES",
};

/** What {@link phaseFromState} decided, and whether the state was known. */
export interface PhaseDecision {
  readonly phase: Phase;
  /** False when the state was not in the table and RUNNING was assumed. */
  readonly known: boolean;
}

/**
 * Maps an external system's state string to a phase. An unknown or missing state means RUNNING with
 * `known: false`, never an exception: Python raises here, which becomes INTERNAL on GetTask, and six of
 * those fail or freeze the task (docs/flyte-executor.md §4.5). The caller logs a warning for unknown states.
 */
export function phaseFromState(state: string | null | undefined, table: StateTable = DEFAULT_STATE_TABLE): PhaseDecision {
  const key = (state ?? "").trim().toLowerCase();
  const phase = Object.hasOwn(table, key) ? table[key] : undefined;
  return phase ? { phase, known: true } : { phase: "RUNNING", known: false };
}
