// `clanker skills import PATH` (copy valid skill folders into the data dir) and `clanker skills list`.
import { cpSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Config } from "../config";
import { privateDir, tightenTree } from "../lib/private-files";
import { parseSkill, readSkillFolder, skillDirsIn, SkillFormatError } from "../modules/skills/catalog";
import { importedSkillsDir, loadConfiguredCatalog } from "../modules/skills/sources";

function usage(): never {
  console.error("clanker: usage: clanker skills import PATH | clanker skills list");
  process.exit(2);
}

export function runSkillsCommand(config: Config, positionals: string[]): void {
  const [verb, path] = positionals;
  if (verb === "list") {
    const catalog = loadConfiguredCatalog(config, (line) => console.error(line));
    for (const s of catalog.list) console.log(`${s.slug}\t${s.category}\t${s.origin}`);
    console.log(`${catalog.list.length} skills`);
    return;
  }
  if (verb !== "import" || !path) usage();
  const from = resolve(path);
  const found = skillDirsIn(from);
  if (found.length === 0) {
    console.error(`clanker: no skill folder (with a SKILL.md) at ${from}`);
    process.exit(1);
  }
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
  if (imported === 0) process.exit(1);
}
