// What a field schema would cost every launch, hook delivery and resume that is checked against it: a schema is
// written by an admin once, then run on input anyone who may launch sends (a member, a hook's sender), on the one
// event loop every workspace shares. Refused when the definition is saved:
// - a pattern that can backtrack super-linearly: ^(a+)+$ (exponential) or .*a.*b (polynomial), as scslre's analysis
//   of the parsed pattern finds them, and an alternation inside a repetition, (a|a)*, which it does not: 30
//   characters held the loop for seconds, 10 KB of input for minutes.
// (uniqueItems is checked in one pass: ./unique-items.)
// Loaded on a definition's save only.
import type { AST } from "@eslint-community/regexpp";
import { isJsonObject } from "../../lib/json-object";

/** Keywords whose values are data, not schemas: an enum value may hold a "pattern" key without running it. */
const VALUES = new Set(["enum", "const", "default", "examples"]);
/** Keywords whose values map names to schemas: a property may be called "default" or "pattern". */
const MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);

/** Why a pattern is too costly to run on anyone's input, or null. An invalid pattern is left to Ajv to name. */
export function costlyPattern(source: string): string | null {
  const { RegExpParser } = require("@eslint-community/regexpp") as typeof import("@eslint-community/regexpp");
  const { analyse } = require("scslre") as typeof import("scslre");
  // Parsed as Ajv runs it: new RegExp(source, "u").
  const parser = new RegExpParser();
  let pattern: AST.Pattern;
  try {
    pattern = parser.parsePattern(source, 0, source.length, { unicode: true });
  } catch {
    return null;
  }
  // A bounded repetition is analysed as unbounded: scslre leaves {1,100} alone as not asymptotically costly, yet
  // ^(?:a{1,100}){1,100}$ took 10 s on 10 KB. ({4} stays linear either way: \d{4}-\d{2} passes as \d{4,}-\d{2,}.)
  unbound(pattern);
  const reports = analyse({ pattern, flags: parser.parseFlags("u") }, { maxReports: 10 }).reports;
  if (reports.some((r) => r.exponential)) return "can take exponential time on some inputs (a repetition that can match the same text in more than one way, like (a+)+)";
  if (reports.length) return "can take polynomial time on long inputs (parts that can match the same characters, like .*a.*b or \\S+@\\S+)";
  if (alternationRepeated(pattern)) return "repeats an alternation (like (a|b)+), which can backtrack exponentially when its choices overlap";
  return null;
}

/** Makes every repetition of more than once unbounded, in place. */
function unbound(node: AST.Node): void {
  if (node.type === "Quantifier") {
    if (node.max > 1) (node as { max: number }).max = Infinity;
    unbound(node.element);
  } else if ("alternatives" in node) node.alternatives.forEach(unbound);
  else if (node.type === "Alternative") node.elements.forEach(unbound);
}

/** Whether a repetition (max > 1) holds an alternation of more than one choice. */
function alternationRepeated(node: AST.Node, repeated = false): boolean {
  if (node.type === "Quantifier") return alternationRepeated(node.element, repeated || node.max > 1);
  if ((node.type === "Group" || node.type === "CapturingGroup" || node.type === "Pattern" || node.type === "Assertion") && "alternatives" in node) {
    if (repeated && node.alternatives.length > 1) return true;
    return node.alternatives.some((a) => alternationRepeated(a, repeated));
  }
  if (node.type === "Alternative") return node.elements.some((e) => alternationRepeated(e, repeated));
  return false;
}

/** The first costly keyword in a schema, at any depth below `path`: its path and why; or null. */
export function costlyKeyword(v: unknown, path: string[] = []): { path: string[]; why: string } | null {
  if (typeof v !== "object" || v === null) return null;
  const s = v as Record<string, unknown>;
  if (typeof s.pattern === "string") {
    const why = costlyPattern(s.pattern);
    if (why) return { path: [...path, "pattern"], why: `the pattern ${JSON.stringify(s.pattern.slice(0, 100))} ${why}: write it so each character can match only one way` };
  }
  if (typeof s.patternProperties === "object" && s.patternProperties !== null)
    for (const source of Object.keys(s.patternProperties)) {
      const why = costlyPattern(source);
      if (why) return { path: [...path, "patternProperties", source], why: `the pattern ${JSON.stringify(source.slice(0, 100))} ${why}: write it so each character can match only one way` };
    }
  for (const [k, child] of Object.entries(s)) {
    if (VALUES.has(k)) continue;
    const entries: [string[], unknown][] =
      MAPS.has(k) && isJsonObject(child)
        ? Object.entries(child).map(([name, schema]) => [[...path, k, name], schema])
        : Array.isArray(child)
          ? child.map((schema, i) => [[...path, k, String(i)], schema])
          : [[[...path, k], child]];
    for (const [at, schema] of entries) {
      const found = costlyKeyword(schema, at);
      if (found) return found;
    }
  }
  return null;
}
