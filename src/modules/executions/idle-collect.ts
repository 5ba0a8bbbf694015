// When the executor threads collect their garbage: after a burst of runs, once the runner has been quiet a while.
const COLLECT_IDLE_MS = 1000;
const COLLECT_AFTER_RUNS = 100;

/**
 * A full collection on every thread once no run has been going for COLLECT_IDLE_MS. JSC schedules collections
 * by JS heap growth, but most of what a run leaves behind is native memory held by small JS objects (bodies,
 * streams, statements): left alone, RSS sits 100–200 MB above its live size after a burst. A full collection
 * stalls the thread it runs on (tens of ms), so it waits for a quiet moment instead of running under load.
 */
export class IdleCollector {
  private settled = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastSettle = 0;

  /** busy(): whether a run is going or about to be (then the run that ends last schedules anew). */
  constructor(
    private busy: () => boolean,
    private collect: () => void,
  ) {}

  /** `n` runs just settled; `nothingRunning` when no other run is going now. */
  noteSettled(n: number, nothingRunning: boolean): void {
    this.settled += n;
    if (!nothingRunning) return;
    this.lastSettle = performance.now();
    if (this.timer || this.settled < COLLECT_AFTER_RUNS) return;
    const check = () => {
      this.timer = null;
      if (this.busy()) return;
      const wait = this.lastSettle + COLLECT_IDLE_MS - performance.now();
      if (wait > 0) return this.wait(check, wait);
      this.settled = 0;
      this.collect();
    };
    this.wait(check, COLLECT_IDLE_MS);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private wait(fn: () => void, ms: number): void {
    this.timer = setTimeout(fn, ms);
    this.timer.unref?.();
  }
}
