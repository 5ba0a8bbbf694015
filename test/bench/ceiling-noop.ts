// The process-start floor: a compiled Bun program that exits at once (built by test/bench/cold-start.ts and timed
// next to `keys create` and `mcp`, which cannot start faster than this on the same machine).
process.exit(0);
