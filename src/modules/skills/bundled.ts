// The bundled catalog, parsed and inlined at build time by a Bun macro.
import { bundledSkills } from "./bundled.macro" with { type: "macro" };
import type { Skill } from "./catalog";

export const BUNDLED_SKILLS: Skill[] = bundledSkills();
