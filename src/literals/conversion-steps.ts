/**
 * A walk over literals (their conversion to values, the search for offloaded ones), written once as a
 * generator and run by either driver here: to its end
 * in one go ({@link finishConversion}, the synchronous API), or in slices that give the event loop back
 * ({@link finishConversionInSlices}, CreateTask's inputs). The generator pauses (`yield`s) every
 * {@link LITERALS_PER_STEP} literals of collections and maps; a conversion of fewer literals never pauses.
 */
export type Conversion<T> = Generator<void, T, void>;

/**
 * Literals converted between two pauses: a few hundred microseconds of work (a literal of a large map costs
 * up to 2 µs: its decoding, which the sliced decoder leaves to the conversion, and its entry in the result),
 * so pausing costs nothing measurable and a slice ends within half a millisecond of its time.
 */
export const LITERALS_PER_STEP = 256;

/** Literals left before the next pause, shared by one whole walk (all the inputs of a call). */
export interface StepCounter {
  left: number;
}

export function newStepCounter(): StepCounter {
  return { left: LITERALS_PER_STEP };
}

/** Counts one literal; true when the walk should pause now. */
export function pauseDue(steps: StepCounter): boolean {
  if (--steps.left > 0) return false;
  steps.left = LITERALS_PER_STEP;
  return true;
}

/** Runs a conversion to its end, synchronously. */
export function finishConversion<T>(conversion: Conversion<T>): T {
  for (;;) {
    const step = conversion.next();
    if (step.done) return step.value;
  }
}

/** Options of {@link finishConversionInSlices}. */
export interface SliceOptions {
  /** Longest stretch of converting between two yields to the event loop; default 5 ms. */
  readonly sliceMs?: number;
  /** Stops the conversion between slices (its reason is thrown) when the call is gone; an AbortSignal will do. */
  readonly signal?: { readonly aborted: boolean; readonly reason: unknown };
  /**
   * Gives the event loop back between two slices, told how long the last one ran; resolves when the next may
   * run. Default: one turn of the event loop (`setImmediate`). The service shares the loop between large
   * requests and everything else here (src/service/pipeline/large-request/large-work-share.ts).
   */
  readonly pause?: SlicePause;
}

/** See {@link SliceOptions.pause}. */
export type SlicePause = (busyMs: number) => Promise<void>;

/** The default pause: one turn of the event loop. */
export const nextTurn: SlicePause = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs a conversion to its end as {@link finishConversion} does, but one that takes longer than a slice
 * continues in slices, with the event loop given back between them (`setImmediate`, as the sliced decode
 * does), and its result is then a promise. A conversion done within its first slice (every small request)
 * returns its value directly: no promise, no extra turn of the event loop.
 */
export function finishConversionInSlices<T>(conversion: Conversion<T>, options: SliceOptions = {}): T | Promise<T> {
  const sliceMs = options.sliceMs ?? 5;
  const step = runSlice(conversion, sliceMs);
  return step.done ? step.value : continueInSlices(conversion, sliceMs, options, step.busyMs);
}

async function continueInSlices<T>(conversion: Conversion<T>, sliceMs: number, options: SliceOptions, firstBusyMs: number): Promise<T> {
  const pause = options.pause ?? nextTurn;
  for (let busyMs = firstBusyMs; ; ) {
    await pause(busyMs);
    if (options.signal?.aborted) {
      conversion.return(undefined as T);
      throw options.signal.reason;
    }
    const step = runSlice(conversion, sliceMs);
    if (step.done) return step.value;
    busyMs = step.busyMs;
  }
}

function runSlice<T>(conversion: Conversion<T>, sliceMs: number): IteratorResult<void, T> & { busyMs: number } {
  const start = performance.now();
  for (;;) {
    const step = conversion.next();
    const busyMs = performance.now() - start;
    if (step.done || busyMs >= sliceMs) return Object.assign(step, { busyMs });
  }
}
