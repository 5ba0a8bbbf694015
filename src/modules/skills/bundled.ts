// The bundled catalog, inlined at build time by a Bun macro so dist/clanker needs no skills/ folder beside it.
import { bundledSkillFolders } from "./bundled.macro" with { type: "macro" };
import type { SkillFolder } from "./catalog";

export const BUNDLED_SKILLS: SkillFolder[] = bundledSkillFolders();
