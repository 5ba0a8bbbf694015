// Runs at bundle time (bun build, and bun's transpiler from source): the `connector` schema as plain JSON Schema,
// for the MCP execute-skill tool, so `clanker mcp` gets it without loading Elysia and TypeBox at start.
import { runConnectorSchema } from "./connector-schema";

export function runConnectorJsonSchema(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(runConnectorSchema));
}
