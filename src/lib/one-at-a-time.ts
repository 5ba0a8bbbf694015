// A pass that must never overlap itself (a dispatch reads the queue, then commits what it picked): a call while
// one runs asks for one more pass after it; the calls in between coalesce into that one.
export interface OneAtATime {
  run(): Promise<void>;
  /** Between a pass's start and its end. */
  readonly busy: boolean;
}

export function oneAtATime(pass: () => Promise<void>): OneAtATime {
  let busy = false;
  let again = false;
  return {
    get busy() {
      return busy;
    },
    async run() {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        do {
          again = false;
          await pass();
        } while (again);
      } finally {
        busy = false;
      }
    },
  };
}

/**
 * Tasks that must not overlap one another (a replica's settles, and its lease renewals between them): each starts
 * once the one called before it has ended, and gets its own result; a failure ends only its own task.
 */
export function inTurn(): <T>(task: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (task) => {
    const p = last.then(task);
    last = p.catch(() => {});
    return p;
  };
}
