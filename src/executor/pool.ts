// The worker-thread pool on the main thread: hands jobs to the least-busy worker and routes its messages back.
import { turnBatcher, type FromWorker, type Job, type RunMessage, type ToWorker } from "./protocol";
import type { Log } from "../lib/log";
import { workerEntry } from "../lib/worker-entry";

export type WorkerMessageHandler = (msg: RunMessage) => void;

interface Slot {
  worker: Worker;
  busy: Set<number>;
  ready: boolean;
  /** To this worker, batched per turn. */
  send: (msg: ToWorker) => void;
}

export class ExecutorPool {
  private slots: Slot[] = [];
  private owner = new Map<number, Slot>();
  private crashes = 0;
  /** The `once` of every warning logged (see FromWorker). */
  private warned = new Set<string>();

  constructor(
    private size: number,
    private onMessage: WorkerMessageHandler,
    private log: Log,
  ) {}

  private spawn(): Slot {
    const worker = new Worker(workerEntry("executor/worker"));
    const slot: Slot = { worker, busy: new Set(), ready: false, send: turnBatcher<ToWorker>((batch) => worker.postMessage(batch)) };
    worker.onmessage = (e: MessageEvent<FromWorker[]>) => {
      for (const msg of e.data) {
        if (msg.type === "ready") {
          slot.ready = true;
          this.crashes = 0;
        }
        if (msg.type === "warn") {
          if (!this.warned.has(msg.once)) this.log.warn(msg.message);
          this.warned.add(msg.once);
          continue;
        }
        if (msg.type === "done" || msg.type === "failed") {
          slot.busy.delete(msg.executionId);
          this.owner.delete(msg.executionId);
        }
        this.onMessage(msg);
      }
    };
    worker.onerror = (e) => {
      const lost = [...slot.busy];
      // Back off when workers die before they are ready (a broken build), instead of respawning in a loop.
      const delay = slot.ready ? 0 : Math.min(60_000, 500 * 2 ** this.crashes++);
      this.log.error(`executor worker crashed: ${e.message}; restarting it${delay ? ` in ${delay} ms` : ""}`);
      worker.terminate();
      const i = this.slots.indexOf(slot);
      if (i !== -1) {
        slot.busy = new Set();
        setTimeout(() => {
          if (this.slots[i] === slot) this.slots[i] = this.spawn();
        }, delay);
      }
      for (const id of lost) {
        this.owner.delete(id);
        this.onMessage({ type: "failed", executionId: id, code: "WORKER_CRASHED", message: `The executor worker crashed: ${e.message}`, usage: { inputTokens: 0, outputTokens: 0 } });
      }
    };
    return slot;
  }

  run(job: Job): void {
    // Workers start with the first run, not with the server: start-up stays fast and an idle server small.
    if (this.slots.length === 0) for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
    const slot = this.slots.reduce((a, b) => (b.busy.size < a.busy.size ? b : a));
    slot.busy.add(job.executionId);
    this.owner.set(job.executionId, slot);
    slot.send({ type: "run", job });
  }

  cancel(executionId: number): void {
    // Through the same batch as the runs: a cancel right after its run reaches the worker after it.
    this.owner.get(executionId)?.send({ type: "cancel", executionId });
  }

  /** Asks every worker for a full garbage collection (each on its own thread). */
  collect(): void {
    for (const s of this.slots) s.send({ type: "collect" });
  }

  stop(): void {
    for (const s of this.slots) s.worker.terminate();
    this.slots = [];
  }
}
