// The skill catalog over real HTTP: the bundled skills, marketplace paging (forward and back), category and
// q filters, categories with counts, details, the public per-IP rate limit, extra skills from
// CLANKER_SKILLS_DIR (a malformed one skipped and logged), and `clanker skills import` served after a restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanup, client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { connectMcp, toolOk } from "./helpers/mcp-client";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";

type Call = ReturnType<typeof client>;
type Summary = { id: string; slug: string; name: string; description: string; category: string; source: unknown };

// The spec's "Sample Skills" table: slug → category.
const SAMPLE_SKILLS: [string, string][] = [
  ["ab-test-setup", "design"],
  ["ad-creative", "marketing"],
  ["agent-tools", "design"],
  ["agent-ui", "productivity"],
  ["agentic-browser", "research"],
  ["ai-automation-workflows", "productivity"],
  ["ai-avatar-video", "development"],
  ["ai-content-pipeline", "design"],
  ["ai-image-generation", "design"],
  ["ai-marketing-videos", "design"],
  ["ai-music-generation", "productivity"],
  ["ai-podcast-creation", "productivity"],
  ["ai-product-photography", "design"],
  ["ai-rag-pipeline", "research"],
  ["ai-seo", "productivity"],
  ["ai-social-media-content", "design"],
  ["ai-video-generation", "design"],
  ["ai-voice-cloning", "productivity"],
  ["algorithmic-art", "development"],
  ["analytics-tracking", "marketing"],
  ["app-store-screenshots", "design"],
  ["aspnet-core", "productivity"],
  ["audit-website", "research"],
  ["background-removal", "design"],
  ["best-practices", "productivity"],
  ["book-cover-design", "design"],
  ["brainstorming", "design"],
  ["brand-guidelines", "design"],
  ["browser-use", "productivity"],
  ["canvas-design", "design"],
  ["case-study-writing", "marketing"],
  ["character-design-sheet", "design"],
  ["chat-ui", "productivity"],
  ["chatgpt-apps", "development"],
  ["churn-prevention", "productivity"],
  ["claude-api", "development"],
  ["cloudflare-deploy", "productivity"],
  ["cold-email", "marketing"],
  ["competitor-alternatives", "productivity"],
  ["competitor-teardown", "research"],
];
const SPEC_EXAMPLES = ["summarize", "code-review", "data-analysis", "document-processing"];
const SPEC_CATEGORIES = ["General", "communication", "design", "development", "documents", "marketing", "productivity", "research"];

const MP = "/api/v1/marketplace/skills";

function expectError(r: ApiResponse, status: number, type: string) {
  expect({ status: r.status, type: r.body?.error?.type, text: r.text }).toMatchObject({ status, type });
  expect(Object.keys(r.body)).toEqual(["error"]);
  expect(typeof r.body.error.message).toBe("string");
}

/** Every skill, in one page (the catalog is well under 100). */
async function fullList(call: Call): Promise<Summary[]> {
  const r = await call("GET", `${MP}?limit=100`);
  expect(r.status).toBe(200);
  expect(r.body.has_more).toBe(false);
  return r.body.data;
}

/** One raw HTTP/1.1 GET from a chosen loopback source address (the server sees a different client IP). */
function getFrom(srv: TestServer, localAddress: string, path: string): Promise<{ status: number; headers: Record<string, string>; body: any }> {
  const u = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port), localAddress }, () =>
      sock.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`),
    );
    let raw = "";
    sock.setEncoding("utf8");
    sock.on("data", (c) => (raw += c));
    sock.on("error", reject);
    sock.on("end", () => {
      const [head, ...rest] = raw.split("\r\n\r\n");
      const lines = head!.split("\r\n");
      const status = Number(lines[0]!.split(" ")[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let bodyText = rest.join("\r\n\r\n");
      if (headers["transfer-encoding"] === "chunked") {
        let out = "";
        let s = bodyText;
        for (;;) {
          const nl = s.indexOf("\r\n");
          const size = parseInt(s.slice(0, nl), 16);
          if (!size) break;
          out += s.slice(nl + 2, nl + 2 + size);
          s = s.slice(nl + 2 + size + 2);
        }
        bodyText = out;
      }
      let body: unknown = bodyText;
      try {
        body = JSON.parse(bodyText);
      } catch {}
      resolve({ status, headers, body });
    });
  });
}

function words(q: string) {
  return q.toLowerCase().split(/\s+/).filter(Boolean);
}
function matches(s: Summary, q: string) {
  const hay = `${s.slug} ${s.name} ${s.description}`.toLowerCase();
  return words(q).every((w) => hay.includes(w));
}

// ---------------------------------------------------------------------------------------------------------
describe("the bundled catalog", () => {
  let srv: TestServer;
  let anon: Call;
  let all: Summary[];

  beforeAll(async () => {
    srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "10000" } });
    anon = client(srv);
    all = await fullList(anon);
  });

  afterAll(async () => {
    await srv?.stop();
    if (srv) cleanup(srv);
  });

  test("holds at least 44 skills, sorted by slug, id = slug, each in a spec category", () => {
    expect(all.length).toBeGreaterThanOrEqual(44);
    const slugs = all.map((s) => s.slug);
    expect(slugs).toEqual([...slugs].sort());
    expect(new Set(slugs).size).toBe(slugs.length);
    for (const s of all) {
      expect(s.id).toBe(s.slug);
      expect(s.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(s.slug.length).toBeLessThanOrEqual(64);
      expect(typeof s.name).toBe("string");
      expect(s.name.length).toBeGreaterThan(0);
      expect(s.description.length).toBeGreaterThan(0);
      expect(s.description.length).toBeLessThanOrEqual(1024);
      expect({ slug: s.slug, category: s.category, ok: SPEC_CATEGORIES.includes(s.category) }).toEqual({ slug: s.slug, category: s.category, ok: true });
    }
  });

  test("every slug of the spec's Sample Skills table is there, in that table's category", () => {
    const bySlug = new Map(all.map((s) => [s.slug, s]));
    for (const [slug, category] of SAMPLE_SKILLS) {
      expect({ slug, category: bySlug.get(slug)?.category }).toEqual({ slug, category });
    }
  });

  test("the spec's own examples are there: summarize, code-review, data-analysis, document-processing", () => {
    const slugs = all.map((s) => s.slug);
    for (const slug of SPEC_EXAMPLES) expect(slugs).toContain(slug);
  });

  test("paging forward with limit=7 and after_id walks every skill exactly once", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const r: ApiResponse = await anon("GET", `${MP}?limit=7${after ? `&after_id=${after}` : ""}`);
      expect(r.status).toBe(200);
      const ids: string[] = r.body.data.map((s: Summary) => s.slug);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.length).toBeLessThanOrEqual(7);
      expect(r.body.first_id).toBe(ids[0]);
      expect(r.body.last_id).toBe(ids[ids.length - 1]);
      seen.push(...ids);
      pages++;
      expect(pages).toBeLessThan(50);
      if (!r.body.has_more) break;
      expect(ids.length).toBe(7);
      after = r.body.last_id;
    }
    expect(pages).toBe(Math.ceil(all.length / 7));
    expect(seen).toEqual(all.map((s) => s.slug));
    // Past the end: an empty page, no ids, no more.
    const end = await anon("GET", `${MP}?limit=7&after_id=${seen[seen.length - 1]}`);
    expect(end.body).toEqual({ data: [], first_id: null, last_id: null, has_more: false });
  });

  test("paging back with before_id from the last page walks every skill exactly once", async () => {
    const slugs = all.map((s) => s.slug);
    const lastStart = Math.floor((slugs.length - 1) / 7) * 7;
    const pages: string[][] = [slugs.slice(lastStart)];
    let before = slugs[lastStart]!;
    for (let i = 0; i < 50; i++) {
      const r: ApiResponse = await anon("GET", `${MP}?limit=7&before_id=${before}`);
      expect(r.status).toBe(200);
      const ids: string[] = r.body.data.map((s: Summary) => s.slug);
      expect(ids.length).toBe(7);
      expect(r.body.first_id).toBe(ids[0]);
      expect(r.body.last_id).toBe(ids[6]);
      pages.unshift(ids);
      if (!r.body.has_more) break;
      before = r.body.first_id;
    }
    expect(pages.flat()).toEqual(slugs);
    // Before the first skill: nothing.
    const start = await anon("GET", `${MP}?limit=7&before_id=${slugs[0]}`);
    expect(start.body).toEqual({ data: [], first_id: null, last_id: null, has_more: false });
  });

  test("after_id=summarize (the spec's example) starts right after summarize", async () => {
    const slugs = all.map((s) => s.slug);
    const r = await anon("GET", `${MP}?limit=20&after_id=summarize`);
    expect(r.status).toBe(200);
    const i = slugs.indexOf("summarize");
    expect(r.body.data.map((s: Summary) => s.slug)).toEqual(slugs.slice(i + 1, i + 21));
  });

  test("every skill's detail: full metadata, instructions > 500 chars, description ≤ 1024, parameters, source", async () => {
    const instructions = new Set<string>();
    for (const s of all) {
      const r = await anon("GET", `${MP}/${s.slug}`);
      expect({ slug: s.slug, status: r.status }).toEqual({ slug: s.slug, status: 200 });
      const d = r.body;
      expect(d).toMatchObject({ slug: s.slug, name: s.name, description: s.description, category: s.category });
      expect(typeof d.instructions).toBe("string");
      expect({ slug: s.slug, long: d.instructions.trim().length > 500 }).toEqual({ slug: s.slug, long: true });
      expect(d.instructions).not.toMatch(/lorem ipsum|\bTODO\b|\bTBD\b|placeholder text/i);
      expect(d.description.length).toBeLessThanOrEqual(1024);
      expect(Array.isArray(d.parameters)).toBe(true);
      for (const p of d.parameters) {
        expect(typeof p.name).toBe("string");
        expect(typeof p.type).toBe("string");
        expect(typeof p.required).toBe("boolean");
      }
      expect(d.source).toBeDefined();
      expect(d.source).not.toBeNull();
      expect({ slug: s.slug, repository: typeof d.source.repository === "string" && d.source.repository.length > 0 }).toEqual({ slug: s.slug, repository: true });
      instructions.add(d.instructions);
    }
    // Each skill has its own instructions (none copied from another).
    expect(instructions.size).toBe(all.length);
  });

  test("the spec's example skill code-review has parameters a caller can fill", async () => {
    const r = await anon("GET", `${MP}/code-review`);
    expect(r.status).toBe(200);
    expect(r.body.parameters.length).toBeGreaterThan(0);
    expect(r.body.instructions.length).toBeGreaterThan(500);
  });

  test("an unknown slug → 404 not_found_error", async () => {
    expectError(await anon("GET", `${MP}/no-such-skill-here`), 404, "not_found_error");
    expectError(await anon("GET", `${MP}/zz-${"x".repeat(40)}`), 404, "not_found_error");
  });

  test("category filter returns exactly that category's skills, case-insensitively", async () => {
    const cats = [...new Set(all.map((s) => s.category))];
    expect(cats.length).toBeGreaterThan(1);
    for (const c of cats) {
      const expected = all.filter((s) => s.category === c).map((s) => s.slug);
      const r = await anon("GET", `${MP}?limit=100&category=${encodeURIComponent(c)}`);
      expect(r.status).toBe(200);
      expect({ c, slugs: r.body.data.map((s: Summary) => s.slug) }).toEqual({ c, slugs: expected });
      expect(r.body.has_more).toBe(false);
      for (const variant of [c.toUpperCase(), c[0]!.toUpperCase() + c.slice(1).toLowerCase()]) {
        const v = await anon("GET", `${MP}?limit=100&category=${encodeURIComponent(variant)}`);
        expect({ variant, slugs: v.body.data.map((s: Summary) => s.slug) }).toEqual({ variant, slugs: expected });
      }
    }
    const none = await anon("GET", `${MP}?category=no-such-category`);
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ data: [], first_id: null, last_id: null, has_more: false });
  });

  test("a category filter pages with its own cursor (limit=3)", async () => {
    const expected = all.filter((s) => s.category === "design").map((s) => s.slug);
    expect(expected.length).toBeGreaterThan(3);
    const seen: string[] = [];
    let after = "";
    for (let i = 0; i < 50; i++) {
      const r: ApiResponse = await anon("GET", `${MP}?limit=3&category=design${after ? `&after_id=${after}` : ""}`);
      seen.push(...r.body.data.map((s: Summary) => s.slug));
      if (!r.body.has_more) break;
      after = r.body.last_id;
    }
    expect(seen).toEqual(expected);
  });

  test("q search returns exactly the skills whose slug/name/description contain all the words", async () => {
    for (const q of ["video", "cold email", "VIDEO", "ai image", "review code"]) {
      const expected = all.filter((s) => matches(s, q)).map((s) => s.slug);
      const r = await anon("GET", `${MP}?limit=100&q=${encodeURIComponent(q)}`);
      expect(r.status).toBe(200);
      expect({ q, slugs: r.body.data.map((s: Summary) => s.slug) }).toEqual({ q, slugs: expected });
    }
    const video = await anon("GET", `${MP}?limit=100&q=video`);
    const videoSlugs = video.body.data.map((s: Summary) => s.slug);
    for (const slug of ["ai-video-generation", "ai-avatar-video", "ai-marketing-videos"]) expect(videoSlugs).toContain(slug);
    expect(videoSlugs).not.toContain("cold-email");
    const cold = await anon("GET", `${MP}?limit=100&q=${encodeURIComponent("cold email")}`);
    expect(cold.body.data.map((s: Summary) => s.slug)).toContain("cold-email");
    const nothing = await anon("GET", `${MP}?q=zzqxjv-nothing-matches`);
    expect(nothing.body).toEqual({ data: [], first_id: null, last_id: null, has_more: false });
  });

  test("q and category combine", async () => {
    const expected = all.filter((s) => s.category === "design" && matches(s, "video")).map((s) => s.slug);
    const r = await anon("GET", `${MP}?limit=100&category=design&q=video`);
    expect(r.body.data.map((s: Summary) => s.slug)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });

  test("GET /categories: counts add up to the total and match the list", async () => {
    const r = await anon("GET", `${MP}/categories`);
    expect(r.status).toBe(200);
    const data: { name: string; count: number }[] = r.body.data;
    expect(Array.isArray(data)).toBe(true);
    const total = data.reduce((n, c) => n + c.count, 0);
    expect(total).toBe(all.length);
    const fromList = new Map<string, number>();
    for (const s of all) fromList.set(s.category, (fromList.get(s.category) ?? 0) + 1);
    expect(Object.fromEntries(data.map((c) => [c.name, c.count]))).toEqual(Object.fromEntries(fromList));
    expect(new Set(data.map((c) => c.name)).size).toBe(data.length);
    for (const c of data) expect(c.count).toBeGreaterThan(0);
  });

  test("the marketplace needs no auth and carries x-ratelimit-* headers, counted per client IP", async () => {
    const r1 = await anon("GET", `${MP}?limit=1`);
    const r2 = await anon("GET", `${MP}/categories`);
    const r3 = await anon("GET", `${MP}/summarize`);
    for (const r of [r1, r2, r3]) {
      expect(r.status).toBe(200);
      expect(r.headers.get("x-ratelimit-limit")).toBe("10000");
      expect(Number(r.headers.get("x-ratelimit-reset"))).toBeGreaterThan(0);
      expect(Number(r.headers.get("x-ratelimit-reset"))).toBeLessThanOrEqual(60);
    }
    const rem = [r1, r2, r3].map((r) => Number(r.headers.get("x-ratelimit-remaining")));
    expect(rem[1]).toBe(rem[0]! - 1);
    expect(rem[2]).toBe(rem[1]! - 1);
    // Another client address has its own window.
    const other = await getFrom(srv, "127.0.0.2", `${MP}?limit=1`);
    expect(other.status).toBe(200);
    expect(other.headers["x-ratelimit-remaining"]).toBe("9999");
    expect(other.body.data.length).toBe(1);
    // Credentials do not change the public window: the same IP keeps counting.
    const key = await srv.createKey({ email: uniqueEmail("catalog") });
    const keyed = await client(srv, { apiKey: key })("GET", `${MP}?limit=1`);
    expect(keyed.status).toBe(200);
    expect(Number(keyed.headers.get("x-ratelimit-remaining"))).toBe(rem[2]! - 1);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("the public rate limit (CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE=3)", () => {
  let srv: TestServer;

  beforeAll(async () => {
    srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "3" } });
  });

  afterAll(async () => {
    await srv?.stop();
    if (srv) cleanup(srv);
  });

  test("three requests pass, the fourth from the same IP → 429 rate_limit_error; another IP still passes", async () => {
    const anon = client(srv);
    const rs = [await anon("GET", MP), await anon("GET", `${MP}/categories`), await anon("GET", `${MP}/summarize`)];
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(rs.map((r) => r.headers.get("x-ratelimit-remaining"))).toEqual(["2", "1", "0"]);
    for (const r of rs) expect(r.headers.get("x-ratelimit-limit")).toBe("3");
    const fourth = await anon("GET", MP);
    expectError(fourth, 429, "rate_limit_error");
    expect(fourth.headers.get("x-ratelimit-limit")).toBe("3");
    expect(fourth.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(fourth.headers.get("x-ratelimit-reset"))).toBeGreaterThan(0);
    expectError(await anon("GET", `${MP}/code-review`), 429, "rate_limit_error");
    const other = await getFrom(srv, "127.0.0.3", MP);
    expect(other.status).toBe(200);
    expect(other.headers["x-ratelimit-remaining"]).toBe("2");
  });
});

// ---------------------------------------------------------------------------------------------------------
// A skill as published in a public Agent Skills repository: only the open format's keys (no category,
// parameters or source), a LICENSE file and supporting scripts/ and references/.
const PUBLIC_BODY = `# PDF tools

## Overview
This skill fills, splits and merges PDF files with the scripts in \`scripts/\`. Read \`references/forms.md\`
before filling a form.

## Steps
1. Ask for the input PDF if none was given.
2. Run \`python scripts/extract.py input.pdf\` to list the form fields.
3. Fill the fields and write the result next to the input as \`<name>.filled.pdf\`.`;

const PUBLIC_SKILL = `---
name: pdf-tools
description: Fill in, split, merge and extract text from PDF files. Use when the user hands over a PDF form or asks to combine or take apart PDF documents.
license: Complete terms in LICENSE.txt
compatibility: Requires python3 with pypdf installed
allowed-tools: Bash(python:*) Read Write
metadata:
  author: example-org
  version: "1.2"
---

${PUBLIC_BODY}
`;

function skillMd(name: string, description: string, extra = "", body = `# ${name}\n\nDo the ${name} job step by step and report what was done.`) {
  return `---\nname: ${name}\ndescription: ${description}\n${extra}---\n\n${body}\n`;
}

function writeSkill(root: string, folder: string, md: string, files: Record<string, string> = {}) {
  mkdirSync(join(root, folder), { recursive: true });
  writeFileSync(join(root, folder, "SKILL.md"), md);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, folder, rel, ".."), { recursive: true });
    writeFileSync(join(root, folder, rel), text);
  }
}

describe("CLANKER_SKILLS_DIR and `clanker skills import`", () => {
  let srv: TestServer;
  let anon: Call;
  let bundledCount: number;
  const work = mkdtempSync(join(tmpdir(), "clanker-skills-"));
  const skillsDir = join(work, "extra");
  const importDir = join(work, "to-import");
  const singleDir = join(work, "single", "release-notes");

  beforeAll(async () => {
    // (a) copied from a public repo, unchanged; (b) malformed: name ≠ folder, and broken YAML.
    writeSkill(skillsDir, "pdf-tools", PUBLIC_SKILL, {
      "LICENSE.txt": "Licensed under the Apache License, Version 2.0.\n",
      "scripts/extract.py": "import sys\nprint(sys.argv[1])\n",
      "references/forms.md": "# Forms\nFill fields in order.\n",
    });
    writeSkill(skillsDir, "wrong-folder", skillMd("some-other-name", "A skill whose name does not match its folder."));
    writeSkill(skillsDir, "broken-yaml", `---\nname: broken-yaml\ndescription: [this list never closes\n  category: : :\n---\n\n# Broken\n\nNever served.\n`);

    writeSkill(importDir, "weekly-report", skillMd("weekly-report", "Turns a week of notes into a status report for a manager.", "category: documents\nparameters:\n  - name: notes\n    type: string\n    required: true\n    description: The week's raw notes.\n"));
    writeSkill(importDir, "meeting-notes", skillMd("meeting-notes", "Summarises a meeting transcript into decisions and action items."));
    writeSkill(importDir, "Bad_Folder", skillMd("Bad_Folder", "Upper case and underscore are not allowed in a skill name."));

    writeSkill(join(work, "single"), "release-notes", skillMd("release-notes", "Writes user-facing release notes from a list of merged changes.", "category: development\n"));

    // Only the bundled catalog, to know its size.
    const plain = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "10000" } });
    try {
      bundledCount = (await fullList(client(plain))).length;
    } finally {
      await plain.stop();
      cleanup(plain);
    }

    srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_SKILLS_DIR: skillsDir } });
    anon = client(srv);
  }, 30_000); // two server starts in a row: more than the default 5 s on a loaded machine

  afterAll(async () => {
    await srv?.stop();
    if (srv) cleanup(srv);
    rmSync(work, { recursive: true, force: true });
  });

  test("a skill folder copied from a public Agent Skills repo loads unchanged, in category General", async () => {
    const list = await fullList(anon);
    expect(list.length).toBe(bundledCount + 1);
    const s = list.find((x) => x.slug === "pdf-tools");
    expect(s).toBeDefined();
    expect(s!.category).toBe("General");
    const d = await anon("GET", `${MP}/pdf-tools`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({
      slug: "pdf-tools",
      category: "General",
      description: "Fill in, split, merge and extract text from PDF files. Use when the user hands over a PDF form or asks to combine or take apart PDF documents.",
      license: "Complete terms in LICENSE.txt",
      parameters: [],
    });
    expect(d.body.instructions.trim()).toBe(PUBLIC_BODY.trim());
    expect(d.body).toHaveProperty("source");
    // It is listed under General, and counted there.
    const general = await anon("GET", `${MP}?limit=100&category=general`);
    expect(general.body.data.map((x: Summary) => x.slug)).toContain("pdf-tools");
    const cats = await anon("GET", `${MP}/categories`);
    const g = cats.body.data.find((c: { name: string }) => c.name === "General");
    expect(g?.count).toBe(list.filter((x) => x.category === "General").length);
    // And it is found by q.
    const q = await anon("GET", `${MP}?q=${encodeURIComponent("pdf merge")}`);
    expect(q.body.data.map((x: Summary) => x.slug)).toEqual(["pdf-tools"]);
  });

  test("malformed skills are skipped: the server started, they are not served, the log names path and reason", async () => {
    const slugs = (await fullList(anon)).map((s) => s.slug);
    for (const slug of ["wrong-folder", "some-other-name", "broken-yaml"]) {
      expect(slugs).not.toContain(slug);
      expectError(await anon("GET", `${MP}/${slug}`), 404, "not_found_error");
    }
    const lines = srv.logs().split("\n");
    const wrong = lines.filter((l) => l.includes(join(skillsDir, "wrong-folder")));
    expect({ lines: wrong.length, log: srv.logs() }).toMatchObject({ lines: 1 });
    expect(wrong[0]).toMatch(/name/i);
    expect(wrong[0]).toMatch(/folder|some-other-name/i);
    const yaml = lines.filter((l) => l.includes(join(skillsDir, "broken-yaml")));
    expect({ lines: yaml.length, log: srv.logs() }).toMatchObject({ lines: 1 });
    expect(yaml[0]).toMatch(/yaml/i);
    // The parser's first line, without the colon that introduced its (left out) code frame.
    expect(yaml[0]).toMatch(/frontmatter is not valid YAML: .* at line \d+, column \d+[^:]*"/);
    // The good one is not reported.
    expect(srv.logs()).not.toContain(join(skillsDir, "pdf-tools"));
  });

  test("`clanker skills import PATH` imports a folder of skills, reports the malformed one, and a restart serves them", async () => {
    const r = await srv.cli(["skills", "import", importDir]);
    const out = r.stdout + r.stderr;
    expect(out).toContain("weekly-report");
    expect(out).toContain("meeting-notes");
    const badLine = out.split("\n").find((l) => l.includes(join(importDir, "Bad_Folder")));
    expect({ badLine, out }).toMatchObject({ badLine: expect.stringMatching(/name/i) });
    // The good ones imported, but not all: a script must not take it as done.
    expect({ code: r.code, summary: /^\d+ of \d+ skills imported/m.test(r.stdout) }).toEqual({ code: 1, summary: true });

    // A folder holding a single skill imports too.
    const one = await srv.cli(["skills", "import", singleDir]);
    expect({ code: one.code, out: one.stdout + one.stderr }).toMatchObject({ code: 0, out: expect.stringContaining("release-notes") });

    // Copied into the data dir: the sources can go away.
    rmSync(importDir, { recursive: true, force: true });
    rmSync(join(work, "single"), { recursive: true, force: true });

    await srv.stop();
    await srv.restart();
    const list = await fullList(anon);
    const bySlug = new Map(list.map((s) => [s.slug, s]));
    expect(list.length).toBe(bundledCount + 4);
    expect(bySlug.get("weekly-report")?.category).toBe("documents");
    expect(bySlug.get("meeting-notes")?.category).toBe("General");
    expect(bySlug.get("release-notes")?.category).toBe("development");
    expect(bySlug.has("pdf-tools")).toBe(true);
    expect(bySlug.has("Bad_Folder")).toBe(false);
    const d = await anon("GET", `${MP}/weekly-report`);
    expect(d.status).toBe(200);
    expect(d.body.parameters).toEqual([expect.objectContaining({ name: "notes", type: "string", required: true })]);
    expect(d.body.instructions).toContain("Do the weekly-report job step by step");
    // Still sorted, so paging stays right with the imported skills in it.
    const slugs = list.map((s) => s.slug);
    expect(slugs).toEqual([...slugs].sort());
  });
});

describe("MCP offers the whole catalog, past 100 skills", () => {
  let srv: TestServer;
  let mcp: Client;
  const work = mkdtempSync(join(tmpdir(), "clanker-many-skills-"));

  beforeAll(async () => {
    // 101 of our own: more than 100 in all, whatever the bundled catalog holds.
    for (let i = 0; i < 101; i++) writeSkill(work, `zz-gen-${i}`, skillMd(`zz-gen-${i}`, `Generated skill number ${i} for a large catalog.`));
    srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_SKILLS_DIR: work } });
    const key = await srv.createKey({ email: uniqueEmail("many-skills") });
    mcp = await connectMcp(srv.url, "streamable", { "x-api-key": key });
  }, 30_000);

  afterAll(async () => {
    await mcp?.close();
    await srv?.stop();
    if (srv) cleanup(srv);
    rmSync(work, { recursive: true, force: true });
  });

  test("prompts, resources, search-skills and slug completion list every skill REST pages through", async () => {
    const slugs: string[] = [];
    for (let after = "", i = 0; i < 10; i++) {
      const r = await client(srv)("GET", `${MP}?limit=100${after ? `&after_id=${after}` : ""}`);
      slugs.push(...r.body.data.map((s: Summary) => s.slug));
      if (!r.body.has_more) break;
      after = r.body.last_id;
    }
    slugs.sort();
    expect(slugs.length).toBeGreaterThan(100);
    const prompts: string[] = [];
    for (let cursor: string | undefined, i = 0; i < 20; i++) {
      const page = await mcp.listPrompts(cursor ? { cursor } : {});
      prompts.push(...page.prompts.map((p) => p.name));
      if (!(cursor = page.nextCursor)) break;
    }
    expect(prompts.sort()).toEqual(slugs);
    expect((await mcp.getPrompt({ name: "zz-gen-99" })).messages[0]?.content).toMatchObject({ type: "text" });
    const resources = (await mcp.listResources()).resources.map((r) => r.uri).filter((u) => u.startsWith("clanker://skills/"));
    expect(resources.sort()).toEqual(slugs.map((s) => `clanker://skills/${s}`).sort());
    const found = await toolOk(mcp, "search-skills", {});
    expect({ total: found.total, listed: found.skills.length }).toEqual({ total: slugs.length, listed: slugs.length });
    const done = await mcp.complete({ ref: { type: "ref/resource", uri: "clanker://skills/{slug}" }, argument: { name: "slug", value: "zz-gen-" } });
    expect({ total: done.completion.total, hasMore: done.completion.hasMore }).toEqual({ total: 101, hasMore: true });
  });
});

describe("a skill that leaves the catalog (its folder removed from CLANKER_SKILLS_DIR)", () => {
  const work = mkdtempSync(join(tmpdir(), "clanker-skills-gone-"));
  let srv: TestServer;
  afterAll(async () => {
    await srv?.stop();
    if (srv) cleanup(srv);
    rmSync(work, { recursive: true, force: true });
  });

  test("stays listed as installed and unavailable, and can still be unbound and uninstalled", async () => {
    writeSkill(work, "gone-soon", skillMd("gone-soon", "A skill whose folder is removed while it is installed."));
    srv = await startServer({ env: { CLANKER_SKILLS_DIR: work, CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
    const api = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("gone-skill") }) });
    expect((await api("POST", "/api/v1/skills/gone-soon/install")).status).toBe(200);
    const secret = await api("POST", "/api/v1/secrets", { body: { name: "GONE_TOKEN", value: "s3cret-value" } });
    const binding = await api("POST", "/api/v1/skills/gone-soon/secrets", { body: { secretId: secret.body.id, envVar: "GONE_TOKEN" } });
    expect(binding.status).toBe(200);

    rmSync(join(work, "gone-soon"), { recursive: true });
    await srv.stop();
    await srv.restart();
    const listed = (await api("GET", "/api/v1/skills?limit=100")).body.data.find((s: any) => s.slug === "gone-soon");
    expect(listed).toMatchObject({ installed: true, available: false });
    const bindings = await api("GET", "/api/v1/skills/gone-soon/secrets");
    expect({ status: bindings.status, ids: bindings.body.data?.map((b: any) => b.id) }).toEqual({ status: 200, ids: [binding.body.id] });
    expect((await api("DELETE", `/api/v1/skills/gone-soon/secrets/${binding.body.id}`)).status).toBe(200);
    const gone = await api("POST", "/api/v1/skills/gone-soon/uninstall");
    expect({ status: gone.status, body: gone.body }).toMatchObject({ status: 200, body: { slug: "gone-soon", installed: false, available: false } });
    expect((await api("GET", "/api/v1/skills?limit=100")).body.data.map((s: any) => s.slug)).not.toContain("gone-soon");
    // Held by nothing any more: a 404 as for any slug that was never a skill.
    expect((await api("POST", "/api/v1/skills/gone-soon/uninstall")).status).toBe(404);
    expect((await api("POST", "/api/v1/skills/never-a-skill/uninstall")).status).toBe(404);
  }, 40_000);
});
