// What every process that serves from the store does before anything else (serve, clanker mcp).
import { migrate, type Store } from "./store/db";
import { checkStartKey } from "./store/master-key";
import { loadSharedSkills } from "./modules/skills/sources";
import { existsSync, statSync } from "node:fs";
import type { Config } from "./config";

/** Migrates; refuses another master key (a replica, a restored backup) before anything reads a secret; under
 * PostgreSQL, fetches the imported skills from the database before the catalog is made. */
export async function prepareStore(store: Store, dataDir: string): Promise<void> {
  await migrate(store);
  await checkStartKey(store, dataDir);
  await loadSharedSkills(store, dataDir);
}

/**
 * Folders the configuration names that are not there: read at start and skipped without a word, a typo served the
 * bundled catalog alone or no local sources. One warning line each (the server still starts: a folder may come later).
 */
export function missingFolders(config: Config, which: "all" | "skills" = "all"): string[] {
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  const named: [string, string][] = [
    ...(config.skillsDir ? [["CLANKER_SKILLS_DIR", config.skillsDir] as [string, string]] : []),
    ...(which === "all" ? config.connectors.localSources.map((p) => ["CLANKER_LOCAL_SOURCES", p] as [string, string]) : []),
  ];
  return named.filter(([, p]) => !isDir(p)).map(([name, p]) => `${name} names ${p}, which is not a folder: its skills or sources are not served; check the path`);
}
