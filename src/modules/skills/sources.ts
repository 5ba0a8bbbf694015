// Where the catalog comes from: the bundled skills, then `clanker skills import`ed ones in the data dir,
// then CLANKER_SKILLS_DIR (a later skill with the same slug replaces an earlier one).
import { join } from "node:path";
import type { Config } from "../../config";
import { BUNDLED_SKILLS } from "./bundled";
import { loadCatalog, type Catalog } from "./catalog";
import type { Log } from "../../lib/log";

export const importedSkillsDir = (config: Config) => join(config.dataDir, "skills");

export function loadConfiguredCatalog(config: Config, log: Log | ((line: string) => void)): Catalog {
  const directories: { path: string; origin: "imported" | "directory" }[] = [{ path: importedSkillsDir(config), origin: "imported" }];
  if (config.skillsDir) directories.push({ path: config.skillsDir, origin: "directory" });
  return loadCatalog({ bundled: BUNDLED_SKILLS, directories }, log);
}
