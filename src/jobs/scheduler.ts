// Croner schedules: each job a function over the services (sync or async), stopped with the server.
import { Cron } from "croner";
import { describeError } from "../lib/errors";
import type { Log } from "../lib/log";

export interface Job {
  name: string;
  pattern: string;
  /** May return a promise: croner awaits it (protect: no overlapping run) and a rejection is logged. */
  run: () => unknown;
}

export function startJobs(jobs: Job[], log: Log): () => void {
  const crons = jobs.map(
    (job) =>
      new Cron(job.pattern, { protect: true, catch: (e) => log.error(`job ${job.name} failed: ${describeError(e)}`) }, async () => {
        await job.run();
      }),
  );
  return () => crons.forEach((c) => c.stop());
}
