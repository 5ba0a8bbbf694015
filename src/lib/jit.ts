// JavaScriptCore compiles a function with its JITs once it has run a few hundred times. Much of what a start runs
// (module bodies, table and route definitions, Elysia's route mapping) runs that often and then never again, so
// compiling it is wasted work on the thread that is starting: ~20 ms of `serve`'s ~110 ms to its first 200 here
// (test/bench/cold-start.ts, side by side). A process starts with the thresholds scaled up, and a command that
// keeps running restores the normal ones once it serves, so its request path is compiled as usual.

/** How many times more reluctant to compile while starting (16–1000 measured alike; 4 gave half the gain). */
const STARTING_SCALE = 64;
/**
 * How long after it serves a process keeps the starting scale: restored at once, the normal thresholds had the JIT
 * compile the start's hottest functions during the first request (~2–3 ms more to serve's first 200).
 */
const SERVING_AFTER_MS = 100;

/** From the top of main, before the commands' modules load. */
export function jitWhileStarting(): void {
  Bun.unsafe.setJITPolicy(STARTING_SCALE);
}

/** Once the process serves (serve listening, mcp connected): the normal thresholds, SERVING_AFTER_MS later. */
export function jitForServing(): void {
  setTimeout(() => Bun.unsafe.setJITPolicy(1), SERVING_AFTER_MS).unref();
}
