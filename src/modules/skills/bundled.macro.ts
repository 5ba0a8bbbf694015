// Runs at bundle time (bun build, and bun's transpiler when running from source): reads and parses skills/
// into a literal, so the binary needs no skills/ folder and pays no parsing at start-up. A malformed bundled
// skill fails the build.
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { parseSkill, readSkillFolder, skillDirsIn, type Skill } from "./catalog";

export function bundledSkills(): Skill[] {
  const root = join(import.meta.dir, "../../../skills");
  return skillDirsIn(root)
    .sort((a, b) => a.folder.localeCompare(b.folder))
    .map(({ dir, folder }) => parseSkill(readSkillFolder(dir, folder), "bundled", parseYaml));
}
