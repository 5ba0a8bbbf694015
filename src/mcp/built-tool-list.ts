// The tools/list answer made at build time (tool-list.ts, by tool-list.macro.ts), inlined into the binary.
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { toolListAtBuild } from "./tool-list.macro" with { type: "macro" };

export const TOOL_LIST = toolListAtBuild() as Tool[];
