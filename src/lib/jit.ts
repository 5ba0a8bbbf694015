// JavaScriptCore compiles a function with its JITs once it has run a few hundred times. Most of what a start runs
// (module bodies, table and route definitions, Elysia's route mapping) runs that often and then never again, so
// compiling it is wasted work on the thread that is starting: ~20 ms of `serve`'s ~110 ms to its first 200 here
// (test/bench/cold-start.ts, side by side). A process starts with the thresholds scaled up, and a command that
// keeps running restores the normal ones once it serves, so its request path is compiled as usual.

/** How many times more reluctant to compile while starting (16–1000 measured alike; 4 gave half the gain). */
const STARTING_SCALE = 64;

/** From the top of main, before the commands' modules load. */
export function jitWhileStarting(): void {
  Bun.unsafe.setJITPolicy(STARTING_SCALE);
}

/** Once the process serves (serve listening, mcp connected): the normal thresholds. */
export function jitForServing(): void {
  Bun.unsafe.setJITPolicy(1);
}
