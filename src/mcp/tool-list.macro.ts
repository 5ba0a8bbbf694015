// Runs at bundle time (bun build; from source, when bun's transpiler first loads built-tool-list.ts): the tools/list
// answer, from tool-list.ts run by a bun of its own, because what a macro imports cannot use macros itself
// (skills.ts inlines the `connector` schema with one). From source, that bun costs the process's first tools/list
// ~0.25 s; the binary carries the answer.
import { join } from "node:path";

export function toolListAtBuild(): unknown[] {
  const p = Bun.spawnSync([process.execPath, join(import.meta.dir, "tool-list.ts")], { stdout: "pipe", stderr: "pipe" });
  if (!p.success) {
    // Printed as well: bun reports a macro's exception without its message.
    const why = `making the MCP tool list (src/mcp/tool-list.ts) failed: ${p.stderr.toString()}`;
    console.error(why);
    throw new Error(why);
  }
  return JSON.parse(p.stdout.toString()) as unknown[];
}
