// The worker-thread pool on the main thread: hands jobs to the least-busy worker and routes its messages back.
import type { FromWorker, Job } from "./protocol";

export type WorkerMessageHandler = (msg: FromWorker) => void;

interface Slot {
  worker: Worker;
  busy: Set<number>;
}

export class ExecutorPool {
  private slots: Slot[] = [];
  private owner = new Map<number, Slot>();

  constructor(
    size: number,
    private onMessage: WorkerMessageHandler,
    private log: (line: string) => void,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    // A path Bun resolves both from source and inside dist/clanker (the worker is a --compile entrypoint).
    const worker = new Worker(new URL("./worker.ts", import.meta.url).href);
    const slot: Slot = { worker, busy: new Set() };
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const msg = e.data;
      if (msg.type === "done" || msg.type === "failed") {
        slot.busy.delete(msg.executionId);
        this.owner.delete(msg.executionId);
      }
      this.onMessage(msg);
    };
    worker.onerror = (e) => {
      this.log(`executor worker crashed: ${e.message}; restarting it`);
      const lost = [...slot.busy];
      const i = this.slots.indexOf(slot);
      if (i !== -1) this.slots[i] = this.spawn();
      for (const id of lost) {
        this.owner.delete(id);
        this.onMessage({ type: "failed", executionId: id, code: "WORKER_CRASHED", message: `The executor worker crashed: ${e.message}`, usage: { inputTokens: 0, outputTokens: 0 } });
      }
    };
    return slot;
  }

  run(job: Job): void {
    const slot = this.slots.reduce((a, b) => (b.busy.size < a.busy.size ? b : a));
    slot.busy.add(job.executionId);
    this.owner.set(job.executionId, slot);
    slot.worker.postMessage({ type: "run", job });
  }

  cancel(executionId: number): void {
    this.owner.get(executionId)?.worker.postMessage({ type: "cancel", executionId });
  }

  get size(): number {
    return this.slots.length;
  }

  stop(): void {
    for (const s of this.slots) s.worker.terminate();
    this.slots = [];
  }
}
