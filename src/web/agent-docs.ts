// /skill.md and /auth.md as this server serves them: the templates filled from the live catalog, MCP tool list,
// web pages and settings, so the documents never promise what the server does not have.
import skillMd from "./skill.md" with { type: "text" };
import authMd from "./auth.md" with { type: "text" };
import type { Config } from "../config";
import type { Services } from "../services";

/** The web app's pages (src/web/app/routes.ts); the skill.md test checks that each answers. */
export const WEB_PAGES: [path: string, what: string][] = [
  ["/library", "the skill catalog"],
  ["/executions", "runs and their output, live"],
  ["/artifacts", "files the runs produced: preview, download, delete"],
  ["/workflows", "workflow definitions and runs"],
  ["/memory", "the workspace memory, editable"],
  ["/settings", "API keys, members, credits, connectors"],
  ["/docs", "the API reference"],
];

const oneLine = (s: string | undefined, max = 140) => {
  // The first sentence: a period that ends one, not the one in "e.g." or "i.e.".
  const first = (s ?? "").split(/(?<!\b(?:e\.g|i\.e|etc|vs)\.)(?<=\.)\s/)[0]!.replace(/\s+/g, " ").trim();
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
};
const cell = (s: string) => s.replaceAll("|", "\\|");

export async function renderSkillMd(base: string, config: Config, services: Services): Promise<string> {
  const categories = services.marketplace.categories();
  const skills = services.marketplace.list({ limit: 100 }, {}).rows;
  // Made at build time (src/mcp/tool-list.ts); loaded by the first /skill.md, not at start.
  const { TOOL_LIST: tools } = await import("../mcp/built-tool-list");
  const fill: Record<string, string> = {
    SKILL_COUNT: String(skills.length),
    CATEGORY_COUNT: String(categories.length),
    CATEGORIES: categories.map((c) => `${c.name} (${c.count})`).join(", "),
    ANONYMOUS: config.signin.anonymousAgents
      ? "Anonymous agent registration is **on** here: `POST /agent/auth` with `{\"type\":\"anonymous\"}` answers a limited key at once."
      : "Anonymous agent registration is **off** here: register by identity assertion or device activation (see auth.md).",
    RATE_LIMIT: String(config.rateLimitPerMinute),
    MCP_TOOLS: [`Its ${tools.length} tools:`, "", "| Tool | What it does |", "|---|---|", ...tools.map((t) => `| \`${t.name}\` | ${cell(oneLine(t.description))} |`)].join("\n"),
    PAGES: [`Signed in at \`${base}/\` (a mailed code), a person uses:`, "", ...WEB_PAGES.map(([p, what]) => `- \`${base}${p}\` — ${what}`)].join("\n"),
    SKILLS: ["| Slug | Category | What it does |", "|---|---|---|", ...skills.map((s) => `| \`${s.slug}\` | ${s.category} | ${cell(oneLine(s.description))} |`)].join("\n"),
    BASE_URL: base,
  };
  // One pass, so a value (a skill's description) that happens to contain "{{…}}" is left as it is.
  return skillMd.replace(/\{\{([A-Z_]+)\}\}/g, (m, k: string) => fill[k] ?? m);
}

/** auth.md: the `<!-- anonymous:on -->` or the `<!-- anonymous:off -->` sections, not both. */
export function renderAuthMd(base: string, anonymous: boolean, pollIntervalSeconds: number): string {
  const drop = anonymous ? "off" : "on";
  return authMd
    .replace(new RegExp(`<!-- anonymous:${drop} -->[\\s\\S]*?<!-- /anonymous:${drop} -->\\n?`, "g"), "")
    .replace(/<!-- \/?anonymous:(on|off) -->\n?/g, "")
    .replaceAll("{{BASE_URL}}", base)
    // This server's own (CLANKER_DEVICE_POLL_INTERVAL_SECONDS), as POST /activate answers it.
    .replaceAll("{{POLL_INTERVAL}}", String(pollIntervalSeconds));
}
