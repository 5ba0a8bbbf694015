// The skill catalog: parses Agent Skills folders (SKILL.md = YAML frontmatter + Markdown instructions) from
// the bundled set, the imports (the FileStore's skills/) and CLANKER_SKILLS_DIR. A malformed skill is reported and skipped.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { asLog, type Log } from "../../lib/log";

export const CATEGORIES = ["General", "communication", "design", "development", "documents", "marketing", "productivity", "research"] as const;

export interface SkillParameter {
  name: string;
  type: string;
  required: boolean;
  description: string | null;
  values?: unknown[];
  default?: unknown;
}

export interface Skill {
  slug: string;
  /** Display name: metadata.title, else the frontmatter name. */
  name: string;
  description: string;
  category: string;
  license: string | null;
  compatibility: string | null;
  metadata: Record<string, unknown>;
  parameters: SkillParameter[];
  source: { repository: string | null; path: string | null; url: string | null };
  instructions: string;
  /** Supporting files (references/, scripts/, assets/) by relative path, text content where it is text. */
  files: Record<string, string | null>;
  origin: "bundled" | "imported" | "directory";
}

/** One skill folder's files: SKILL.md's text, and its other files' text (null when binary or too large). */
export interface SkillFolder {
  folder: string;
  skillMd: string;
  files: Record<string, string | null>;
}

export class SkillFormatError extends Error {}

const NAME_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function fail(reason: string): never {
  throw new SkillFormatError(reason);
}

function optionalString(v: unknown, field: string, max = 10_000): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") fail(`'${field}' must be a string`);
  if (v.length > max) fail(`'${field}' is longer than ${max} characters`);
  return v;
}

function parseParameters(raw: unknown): SkillParameter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) fail("'parameters' must be a list");
  return raw.map((p, i) => {
    if (typeof p !== "object" || p === null) fail(`parameters[${i}] must be a mapping`);
    const o = p as Record<string, unknown>;
    if (typeof o.name !== "string" || !o.name) fail(`parameters[${i}].name must be a non-empty string`);
    const out: SkillParameter = {
      name: o.name,
      type: typeof o.type === "string" ? o.type : "string",
      required: o.required === true,
      description: optionalString(o.description, `parameters[${i}].description`),
    };
    if (o.values !== undefined) {
      if (!Array.isArray(o.values)) fail(`parameters[${i}].values must be a list`);
      out.values = o.values;
    }
    if (o.default !== undefined) out.default = o.default;
    return out;
  });
}

function parseSource(raw: unknown): Skill["source"] {
  if (raw === undefined || raw === null) return { repository: null, path: null, url: null };
  if (typeof raw === "string") return { repository: raw, path: null, url: /^https?:\/\//.test(raw) ? raw : null };
  if (typeof raw !== "object") fail("'source' must be a string or a mapping");
  const o = raw as Record<string, unknown>;
  return {
    repository: optionalString(o.repository, "source.repository"),
    path: optionalString(o.path, "source.path"),
    url: optionalString(o.url, "source.url"),
  };
}

/** yaml's parse, loaded (require) by the first skill read from a folder: the bundled ones come parsed at build time. */
const parseYamlLazily = (text: string): unknown => (require("yaml") as typeof import("yaml")).parse(text);

/** `parseYaml`: the build-time macro passes yaml's own (a macro has no require). */
export function parseSkill(folder: SkillFolder, origin: Skill["origin"], parseYaml: (text: string) => unknown = parseYamlLazily): Skill {
  const text = folder.skillMd.replace(/^\uFEFF/, "").replace(/\r\n/g, "\n");
  const m = /^---\n([\s\S]*?)\n---[ \t]*(?:\n([\s\S]*))?$/.exec(text);
  if (!m) fail("SKILL.md must start with YAML frontmatter between '---' lines");
  let front: unknown;
  try {
    front = parseYaml(m[1]!);
  } catch (e) {
    // The message's first line, without the code frame its trailing colon introduces.
    fail(`frontmatter is not valid YAML: ${(e as Error).message.split("\n")[0]!.replace(/:$/, "")}`);
  }
  if (typeof front !== "object" || front === null || Array.isArray(front)) fail("frontmatter must be a YAML mapping");
  const f = front as Record<string, unknown>;

  if (typeof f.name !== "string") fail("'name' is required");
  if (f.name.length < 1 || f.name.length > 64 || !NAME_RE.test(f.name))
    fail(`'name' must be 1–64 of a-z, 0-9 and single '-' (not at either end), got '${f.name}'`);
  if (f.name !== folder.folder) fail(`'name' (${f.name}) must equal the folder name (${folder.folder})`);
  if (typeof f.description !== "string" || !f.description.trim()) fail("'description' is required");
  if (f.description.length > 1024) fail(`'description' is ${f.description.length} characters; at most 1024`);
  const category = optionalString(f.category, "category", 50) ?? "General";
  const metadata = f.metadata ?? {};
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) fail("'metadata' must be a mapping");
  const title = (metadata as Record<string, unknown>).title;
  const instructions = (m[2] ?? "").trim();
  if (!instructions) fail("SKILL.md has no instructions after the frontmatter");

  return {
    slug: f.name,
    name: typeof title === "string" && title.trim() ? title.trim() : f.name,
    description: f.description.trim(),
    category: category.trim() || "General",
    license: optionalString(f.license, "license", 500),
    compatibility: optionalString(f.compatibility, "compatibility", 500),
    metadata: metadata as Record<string, unknown>,
    parameters: parseParameters(f.parameters),
    source: parseSource(f.source),
    instructions,
    files: folder.files,
    origin,
  };
}

const MAX_TEXT_FILE = 256 * 1024;

function readTree(dir: string, base: string, out: Record<string, string | null>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) readTree(full, base, out);
    else if (entry.isFile() && entry.name !== "SKILL.md") {
      const size = statSync(full).size;
      out[relative(base, full)] = size <= MAX_TEXT_FILE ? asText(readFileSync(full)) : null;
    }
  }
}

/** A file's catalog text: its UTF-8 text, or null when it is binary or too large to inline. */
const asText = (buf: Buffer): string | null => (buf.length <= MAX_TEXT_FILE && !buf.includes(0) ? buf.toString("utf8") : null);

/**
 * Skill folders from a flat list of files (`<folder>/SKILL.md`, `<folder>/scripts/run.sh`, … relative to where the
 * skills are): what readSkillFolder makes from a folder on disk, for skills kept in the database.
 */
export function foldersFromFiles(entries: { path: string; bytes: Buffer }[]): SkillFolder[] {
  const byFolder = new Map<string, { skillMd: string | null; files: Record<string, string | null> }>();
  for (const { path, bytes } of entries) {
    const parts = path.split("/");
    // As on disk: hidden files and folders are not the skill's.
    if (parts.length < 2 || parts.some((p) => p.startsWith("."))) continue;
    const [folder, ...rest] = parts;
    const f = byFolder.get(folder!) ?? { skillMd: null, files: {} };
    byFolder.set(folder!, f);
    const rel = rest.join("/");
    if (rel === "SKILL.md") f.skillMd = bytes.toString("utf8");
    else f.files[rel] = asText(bytes);
  }
  const out: SkillFolder[] = [];
  for (const [folder, f] of [...byFolder].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (f.skillMd !== null) out.push({ folder, skillMd: f.skillMd, files: f.files });
  return out;
}

/** Reads one skill folder from disk. */
export function readSkillFolder(dir: string, folder: string): SkillFolder {
  const files: Record<string, string | null> = {};
  readTree(dir, dir, files);
  return { folder, skillMd: readFileSync(join(dir, "SKILL.md"), "utf8"), files };
}

/** A path holding one skill (it has SKILL.md) or many (its subfolders do): the skill folders in it. */
export function skillDirsIn(path: string): { dir: string; folder: string }[] {
  if (!existsSync(path) || !statSync(path).isDirectory()) return [];
  if (existsSync(join(path, "SKILL.md"))) return [{ dir: path, folder: path.replace(/\/+$/, "").split("/").pop()! }];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && existsSync(join(path, e.name, "SKILL.md")))
    .map((e) => ({ dir: join(path, e.name), folder: e.name }));
}

export interface CatalogProblem {
  path: string;
  reason: string;
}

export interface Catalog {
  /** Sorted by slug: the marketplace's cursor order. */
  list: Skill[];
  bySlug: Map<string, Skill>;
  problems: CatalogProblem[];
}

export interface CatalogSources {
  /** Already parsed (at build time). */
  bundled: Skill[];
  /**
   * Read in order (a later skill with the same slug replaces an earlier one): a directory on disk, or folders
   * already read (`where` names them in problems, e.g. `skills/` in the database).
   */
  directories: ({ path: string; origin: Skill["origin"] } | { folders: SkillFolder[]; where: string; origin: Skill["origin"] })[];
}

export function loadCatalog(sources: CatalogSources, print: Log | ((line: string) => void)): Catalog {
  const log = asLog(print).warn;
  const bySlug = new Map<string, Skill>();
  const problems: CatalogProblem[] = [];
  const add = (folder: SkillFolder, origin: Skill["origin"], path: string) => {
    try {
      const skill = parseSkill(folder, origin);
      bySlug.set(skill.slug, skill);
    } catch (e) {
      if (!(e instanceof SkillFormatError)) throw e;
      problems.push({ path, reason: e.message });
      log(`skipped skill ${path}: ${e.message}`);
    }
  };
  for (const skill of sources.bundled) bySlug.set(skill.slug, skill);
  for (const source of sources.directories) {
    const { origin } = source;
    if ("folders" in source) {
      for (const folder of source.folders) add(folder, origin, `${source.where}${folder.folder}/SKILL.md`);
      continue;
    }
    for (const { dir, folder } of skillDirsIn(source.path)) {
      let read: SkillFolder;
      try {
        read = readSkillFolder(dir, folder);
      } catch (e) {
        problems.push({ path: join(dir, "SKILL.md"), reason: (e as Error).message });
        log(`skipped skill ${join(dir, "SKILL.md")}: ${(e as Error).message}`);
        continue;
      }
      add(read, origin, join(dir, "SKILL.md"));
    }
  }
  const list = [...bySlug.values()].sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  return { list, bySlug, problems };
}
