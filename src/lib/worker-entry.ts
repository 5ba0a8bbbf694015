// Where a worker thread's entry module is, from source or from inside the compiled binary.

/**
 * `name` is the entry's path under src/ without extension ("executor/worker"). Each one must also be an entrypoint of
 * `bun build --compile` (package.json "build"), or the binary answers ENOENT /$bunfs/… for it.
 */
export function workerEntry(name: "executor/worker" | "store/checkpoint-worker"): string {
  // The bundler inlines import.meta.url as the source path, so ask where the running entrypoint lives.
  if (Bun.main.includes("$bunfs")) return new URL(`./${name}.js`, Bun.main.startsWith("/") ? `file://${Bun.main}` : Bun.main).href;
  return new URL(`../${name}.ts`, import.meta.url).href;
}
