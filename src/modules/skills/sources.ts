// Where the catalog comes from: the bundled skills, then `clanker skills import`ed ones (the FileStore's skills/:
// the data dir, or the database under PostgreSQL), then CLANKER_SKILLS_DIR (a later skill with the same slug
// replaces an earlier one).
import { join } from "node:path";
import type { Config } from "../../config";
import { BUNDLED_SKILLS } from "./bundled";
import { foldersFromFiles, loadCatalog, type Catalog, type CatalogSources, type SkillFolder } from "./catalog";
import type { Log } from "../../lib/log";
import type { Store } from "../../store/db";
import { IMPORTED_SKILLS_DIR } from "../../store/data-dir";
import { createFileStore, type FileStore } from "../../store/files";

export const importedSkillsDir = (config: Config) => join(config.dataDir, IMPORTED_SKILLS_DIR);

/** The imports read from the database by loadSharedSkills; null: they are on disk (SQLite), read by the catalog itself. */
let sharedImports: SkillFolder[] | null = null;

/** Every imported skill folder in a FileStore (what `skills/` holds). */
export async function importedFolders(files: FileStore): Promise<SkillFolder[]> {
  const prefix = `${IMPORTED_SKILLS_DIR}/`;
  const entries: { path: string; bytes: Buffer }[] = [];
  for (const path of await files.list(prefix)) {
    const bytes = await files.get(path);
    if (bytes) entries.push({ path: path.slice(prefix.length), bytes });
  }
  return foldersFromFiles(entries);
}

/**
 * Under PostgreSQL, reads the imported skills from the database once, before the catalog is made (start-up, the CLI):
 * a skill imported beside any replica is served by every one after its (re)start. On SQLite: nothing to do.
 */
export async function loadSharedSkills(store: Store, dataDir: string): Promise<void> {
  const files = createFileStore(store, dataDir);
  sharedImports = files.shared ? await importedFolders(files) : null;
}

export function loadConfiguredCatalog(config: Config, log: Log | ((line: string) => void)): Catalog {
  const directories: CatalogSources["directories"] = [
    sharedImports ? { folders: sharedImports, where: `${IMPORTED_SKILLS_DIR}/`, origin: "imported" } : { path: importedSkillsDir(config), origin: "imported" },
  ];
  if (config.skillsDir) directories.push({ path: config.skillsDir, origin: "directory" });
  return loadCatalog({ bundled: BUNDLED_SKILLS, directories }, log);
}
