// Runs at bundle time (bun build, and bun's transpiler when running from source): reads skills/ into a literal.
import { join } from "node:path";
import { readSkillFolder, skillDirsIn, type SkillFolder } from "./catalog";

export function bundledSkillFolders(): SkillFolder[] {
  const root = join(import.meta.dir, "../../../skills");
  return skillDirsIn(root)
    .sort((a, b) => a.folder.localeCompare(b.folder))
    .map(({ dir, folder }) => readSkillFolder(dir, folder));
}
