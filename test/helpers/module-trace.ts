// Preloaded (bun --preload) into a CLI process by test/cold-start.test.ts: at exit it writes every module the
// process loaded (require.cache holds ES modules too) to $CLANKER_MODULE_TRACE, one path a line.
import { writeFileSync } from "node:fs";

const out = process.env.CLANKER_MODULE_TRACE;
if (out) process.on("exit", () => writeFileSync(out, Object.keys(require.cache).join("\n")));
