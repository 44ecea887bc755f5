/**
 * Shares the event loop between the sliced work of large requests (decoding, converting their inputs) and
 * everything else. Slicing alone keeps each stretch short, but a client that sends a maximum-size request
 * every second keeps the loop busy with slices nearly all the time: every other call then waits behind a
 * slice on each turn it needs, and garbage collection of the large requests' objects competes for the same
 * cores. So between two slices of large work, from any number of large requests, the loop is left to other
 * work for as long as the last slice ran times `(1 - share) / share`: at a share of 0.5, a 2 ms slice is
 * followed by at least 2 ms of everything else. Large requests wait their turn in order, one slice at a time.
 * They take longer, so a burst of them meets the large-request gate sooner (RESOURCE_EXHAUSTED before they
 * are read), which is the point: small calls keep their latency, large ones queue or are refused.
 *
 * A share of 1 gives the loop back for one turn only (`setImmediate`), as plain slicing does.
 */
export class LargeWorkShare {
  /** Longest stretch of large work between two pauses. */
  readonly sliceMs: number;
  private readonly restPerBusyMs: number;
  private readonly waiting: Array<() => void> = [];
  private nextSliceAt = 0;
  private armed = false;

  constructor(options: { share: number; sliceMs: number }) {
    if (!(options.share > 0 && options.share <= 1)) throw new RangeError(`share must be in (0, 1], got ${options.share}`);
    this.sliceMs = options.sliceMs;
    this.restPerBusyMs = 1 / options.share - 1;
  }

  /** Called at the end of a slice that ran `busyMs`; resolves when the caller may run its next one. */
  readonly pause = (busyMs: number): Promise<void> => {
    this.nextSliceAt = Math.max(this.nextSliceAt, performance.now() + busyMs * this.restPerBusyMs);
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.arm();
    });
  };

  private arm(): void {
    if (this.armed || this.waiting.length === 0) return;
    this.armed = true;
    const delay = this.nextSliceAt - performance.now();
    // Always through the event loop, so that I/O waiting meanwhile is served even when no rest is due.
    if (delay < 1) setImmediate(this.release);
    else setTimeout(this.release, delay);
  }

  private readonly release = (): void => {
    this.armed = false;
    this.waiting.shift()?.();
    // The one released runs its slice in the microtasks that follow, then pauses again (which arms the
    // next release); if it finished instead, the others still get their turn.
    setImmediate(() => this.arm());
  };
}
