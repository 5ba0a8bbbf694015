// `clanker skills import PATH` (copy valid skill folders into the data dir) and `clanker skills list`.
import { cpSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Config } from "../config";
import { privateDir, tightenTree } from "../lib/private-files";
import { parseSkill, readSkillFolder, skillDirsIn, SkillFormatError } from "../modules/skills/catalog";
import { importedSkillsDir, loadConfiguredCatalog } from "../modules/skills/sources";
import { Failure } from "./errors";

export function runSkillsList(config: Config): void {
  const catalog = loadConfiguredCatalog(config, (line) => console.error(line));
  for (const s of catalog.list) console.log(`${s.slug}\t${s.category}\t${s.origin}`);
  console.log(`${catalog.list.length} skills`);
}

export function runSkillsImport(config: Config, path: string): void {
  const from = resolve(path);
  const found = skillDirsIn(from);
  if (found.length === 0) throw new Failure(`no skill folder (with a SKILL.md) at ${from}`);
  const target = importedSkillsDir(config);
  privateDir(target);
  let imported = 0;
  for (const { dir, folder } of found) {
    try {
      const skill = parseSkill(readSkillFolder(dir, folder), "imported");
      const dest = join(target, skill.slug);
      rmSync(dest, { recursive: true, force: true });
      cpSync(dir, dest, { recursive: true });
      // cp keeps the source's modes (0755/0644): the copy in the data dir is owner-only like the rest of it.
      tightenTree(dest);
      console.log(`imported ${skill.slug} (${skill.category})`);
      imported++;
    } catch (e) {
      const reason = e instanceof SkillFormatError ? e.message : (e as Error).message;
      console.error(`skipped ${join(dir, "SKILL.md")}: ${reason}`);
    }
  }
  console.log(`${imported} of ${found.length} skills imported into ${target}; restart the server to serve them`);
  if (imported === 0) process.exitCode = 1;
}
