// The `connector` of a skill run, as one schema: the REST body (Elysia `t`, which is JSON Schema) and the MCP
// execute-skill tool (the same JSON Schema, inlined at build time by connector-schema.macro.ts, turned into zod in
// src/mcp/tools/skills.ts) both use it, so the two faces cannot drift apart. No zod here: REST loads without it.
import { t } from "elysia";

export const runConnectorSchema = t.Object(
  {
    type: t.Union([t.Literal("github"), t.Literal("local"), t.Literal("remote")], { description: "Which connector reads the source: github, local or remote" }),
    fields: t.Object(
      {
        repo: t.Optional(t.String({ maxLength: 201, description: "github: the repository as 'owner/repo'" })),
        source: t.Optional(t.String({ maxLength: 2048, description: "local: a root as list-sources names it; remote: the git URL" })),
        ref: t.Optional(t.String({ maxLength: 255, description: "Branch, tag or commit; omitted: the default branch" })),
        paths: t.Optional(t.Array(t.String({ maxLength: 4096 }), { maxItems: 50, description: "Files or folders to give the model in full, beside the tree and README" })),
      },
      { additionalProperties: true, description: "github: {repo, ref?, paths?}; local, remote: {source, ref?, paths?}" },
    ),
  },
  { additionalProperties: false, description: "A source for the skill to read: the model gets its tree, README and the named paths within the server's byte budget" },
);
