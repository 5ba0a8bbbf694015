// Croner schedules: each job a plain function over the services, stopped with the server.
import { Cron } from "croner";
import type { Log } from "../lib/log";

export interface Job {
  name: string;
  pattern: string;
  run: () => unknown;
}

export function startJobs(jobs: Job[], log: Log): () => void {
  const crons = jobs.map(
    (job) =>
      new Cron(job.pattern, { protect: true, catch: (e) => log.error(`job ${job.name} failed: ${(e as Error)?.message ?? e}`) }, () => {
        job.run();
      }),
  );
  return () => crons.forEach((c) => c.stop());
}
