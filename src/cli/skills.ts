// `clanker skills import PATH` (copy valid skill folders into the FileStore's skills/: the data dir, or the database
// under PostgreSQL) and `clanker skills list`.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Config } from "../config";
import type { Store } from "../store/db";
import { IMPORTED_SKILLS_DIR } from "../store/data-dir";
import { createFileStore, dataDirFiles, type FileStore } from "../store/files";
import { parseSkill, readSkillFolder, skillDirsIn, SkillFormatError } from "../modules/skills/catalog";
import { loadConfiguredCatalog, loadSharedSkills } from "../modules/skills/sources";
import { usageError } from "./errors";
import { missingFolders } from "../startup";

/** `store`: null on SQLite (the imports are plain files in the data dir). */
export async function runSkillsList(config: Config, store: Store | null): Promise<void> {
  if (store) await loadSharedSkills(store, config.dataDir);
  const catalog = loadConfiguredCatalog(config, (line) => console.error(line));
  // As serve warns: a CLANKER_SKILLS_DIR that is no folder lists nothing, which looks like a folder of no skills.
  for (const line of missingFolders(config, "skills")) console.error(`clanker: warning: ${line}`);
  for (const s of catalog.list) console.log(`${s.slug}\t${s.category}\t${s.origin}`);
  console.log(`${catalog.list.length} skills`);
}

/** Copies every regular file under dir (symlinks followed, as a reader would) to `to/<relative path>`. */
async function copyFolder(files: FileStore, dir: string, to: string): Promise<void> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const from = join(dir, entry.name);
    const st = statSync(from);
    if (st.isDirectory()) await copyFolder(files, from, `${to}/${entry.name}`);
    // The owner's x bit is kept (a script); group and other bits never are.
    else if (st.isFile()) await files.put(`${to}/${entry.name}`, readFileSync(from), { executable: (st.mode & 0o100) !== 0 });
  }
}

export async function runSkillsImport(config: Config, store: Store | null, path: string): Promise<void> {
  const from = resolve(path);
  const found = skillDirsIn(from);
  // A path that names no skill is a bad value (exit 2, as a mistyped --data is), not a failure while importing.
  if (found.length === 0) usageError(`no skill folder (with a SKILL.md) at ${from}: give the folder of one skill, or a folder of skill folders`);
  const files = store ? createFileStore(store, config.dataDir) : dataDirFiles(config.dataDir);
  let imported = 0;
  for (const { dir, folder } of found) {
    try {
      const skill = parseSkill(readSkillFolder(dir, folder), "imported");
      const dest = `${IMPORTED_SKILLS_DIR}/${skill.slug}`;
      // A re-import replaces the whole folder: a file the new version dropped must not linger.
      const replace = async () => {
        await files.delete(dest);
        await copyFolder(files, dir, dest);
      };
      // In the database: all of the folder or none of it (a replica starting meanwhile never reads half).
      await (files.shared && store ? store.tx(replace) : replace());
      console.log(`imported ${skill.slug} (${skill.category})`);
      imported++;
    } catch (e) {
      const reason = e instanceof SkillFormatError ? e.message : (e as Error).message;
      console.error(`skipped ${join(dir, "SKILL.md")}: ${reason}`);
    }
  }
  const into = files.shared ? "the database" : join(config.dataDir, IMPORTED_SKILLS_DIR);
  console.log(`${imported} of ${found.length} skills imported into ${into}; restart the server${files.shared ? "s" : ""} to serve them`);
  // Any skipped: a script or CI step must not read "some were not imported" as done.
  if (imported < found.length) process.exitCode = 1;
}
