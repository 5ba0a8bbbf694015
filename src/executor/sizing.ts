// How many executor threads and runs at once a replica has when its configuration does not say.

/**
 * Executor threads when CLANKER_WORKERS is unset: one fewer than the cores, at least one. The main thread serves every
 * request and settles every run, so it needs a core of its own; one executor thread streams hundreds of runs at once
 * (a run's time is the model's). On 2 cores, one thread against two (the old default, as many as the cores), executions
 * bench, 4 rounds each: 1,047 against 925 runs/s, 1.6 against 1.85 ms of CPU per run, POST /run's p50 under 64 in
 * flight 20–40 against 40–63 ms, RSS after runs 140 against 161 MB.
 */
export const defaultWorkers = (cores = navigator.hardwareConcurrency || 1) => Math.max(1, cores - 1);

/**
 * Runs one replica holds at once when CLANKER_REPLICA_RUNS is unset: 32 per core it uses (its executor threads and
 * the main thread, which settles their runs). A run waits on the model far longer than it uses a core, so the cap is
 * what paced a replica's runs: on the executions bench (PostgreSQL + Redis, a zero-latency model, 2 cores), 8 per
 * core ran 91 runs/s and 32 ran 151 (means of three alternating runs); with a real model, 8 per core meant 16 model
 * calls at a time. What a replica does not hold stays queued for the others.
 */
export const defaultReplicaRuns = (workers: number) => (workers + 1) * 32;
