// Every catalog skill as an MCP prompt, so an agent can use a skill with its own model: the skill's instructions
// and the person's input, with the skill's parameters as the prompt's arguments (plus a free-text `input`).
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Skill } from "../modules/skills/catalog";
import type { ToolContext } from "./server";

const INPUT = "input";

/** A skill parameter's argument description: its own, and the values it takes. */
function describe(p: Skill["parameters"][number]): string {
  const parts = [p.description ?? `${p.name} (${p.type})`];
  if (p.values?.length) parts.push(`one of: ${p.values.map(String).join(", ")}`);
  if (p.default !== undefined) parts.push(`default ${String(p.default)}`);
  return parts.join("; ");
}

type PromptArgs = Record<string, z.ZodString | z.ZodOptional<z.ZodString>>;
type PromptCallback = (given: Record<string, string | undefined>) => { description: string; messages: { role: "user"; content: { type: "text"; text: string } }[] };

/**
 * Each skill's prompt arguments and callback, made once per process (per catalog entry): they depend on the skill
 * alone, and every MCP session registers every skill's prompt. Made per session, their zod schemas (~3 KB each, a
 * few per skill) were most of the ~1.7 MB each open session held.
 */
const prompts = new WeakMap<Skill, { args: PromptArgs; callback: PromptCallback }>();

function promptOf(skill: Skill): { args: PromptArgs; callback: PromptCallback } {
  let prompt = prompts.get(skill);
  if (prompt) return prompt;
  const args: PromptArgs = {};
  for (const p of skill.parameters) args[p.name] = p.required ? z.string().describe(describe(p)) : z.string().optional().describe(describe(p));
  // Free text beside the parameters (what a run's `input` is), unless the skill names a parameter so.
  args[INPUT] ??= z.string().optional().describe("Anything else for the skill: instructions, the text to work on, a question");
  const callback: PromptCallback = (given) => {
    const params = skill.parameters.filter((p) => p.name !== INPUT && given[p.name] !== undefined).map((p) => `- ${p.name}: ${given[p.name]}`);
    const input = given[INPUT];
    const text = [`# Skill: ${skill.name}`, skill.instructions, params.length ? `## Parameters\n${params.join("\n")}` : "", input ? `## Input\n\n${input}` : ""]
      .filter(Boolean)
      .join("\n\n");
    return { description: skill.description, messages: [{ role: "user" as const, content: { type: "text" as const, text } }] };
  };
  prompts.set(skill, (prompt = { args, callback }));
  return prompt;
}

export function registerSkillPrompts(server: McpServer, { services }: ToolContext): void {
  for (const summary of services.marketplace.all()) {
    const skill = services.marketplace.get(summary.slug);
    const { args, callback } = promptOf(skill);
    server.registerPrompt(skill.slug, { title: skill.name, description: skill.description, argsSchema: args }, callback);
  }
}

/** Completion of a skill prompt's argument: the parameter's listed values that start with what was typed. */
export function completePromptArgument(services: ToolContext["services"], prompt: string, argument: string, value: string): string[] {
  let skill: Skill;
  try {
    skill = services.marketplace.get(prompt);
  } catch {
    return [];
  }
  const p = skill.parameters.find((x) => x.name === argument);
  return (p?.values ?? []).map(String).filter((v) => v.startsWith(value));
}
