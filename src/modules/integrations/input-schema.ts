// Checks an action's input against its JSON Schema (the subset our actions use: object, string, integer,
// number, boolean, array; required, additionalProperties, minLength/maxLength, pattern, minimum/maximum, enum,
// format email, items, minItems/maxItems), naming the first bad field as `input.<path>`. A keyword outside
// this subset is a programming error in a provider, refused when the schema is first used.
import { invalidParameter } from "../../lib/errors";

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  minLength?: number;
  maxLength?: number;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  description?: string;
};

const KNOWN = new Set(["type", "properties", "required", "additionalProperties", "minLength", "maxLength", "enum", "format", "pattern", "minimum", "maximum", "items", "minItems", "maxItems", "description"]);

// Patterns compiled once; the keys are the providers' own schemas, a fixed set.
const patterns = new Map<string, RegExp>();
const patternOf = (p: string): RegExp => {
  let re = patterns.get(p);
  if (!re) patterns.set(p, (re = new RegExp(p)));
  return re;
};

/** One bare address: none of the characters that make a display name, a group or a list of several ("<", ",", ":"). */
const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

const typeOf = (v: unknown): string => (Array.isArray(v) ? "array" : v === null ? "null" : Number.isInteger(v) ? "integer" : typeof v);

function check(v: unknown, s: Schema, path: string): void {
  const bad = (what: string): never => {
    throw invalidParameter(`${path} ${what}`, path);
  };
  for (const k of Object.keys(s)) if (!KNOWN.has(k)) throw new Error(`action schema keyword '${k}' is not enforced by checkActionInput`);
  const actual = typeOf(v);
  if (s.type && !(s.type === actual || (s.type === "number" && actual === "integer"))) bad(`must be ${s.type === "integer" || s.type === "array" || s.type === "object" ? "an" : "a"} ${s.type}`);
  if (s.enum && !s.enum.includes(v)) bad(`must be one of ${s.enum.map(String).join(", ")}`);
  if (typeof v === "string") {
    if (s.minLength !== undefined && v.length < s.minLength) bad(s.minLength === 1 ? "must not be empty" : `must be at least ${s.minLength} characters`);
    if (s.maxLength !== undefined && v.length > s.maxLength) bad(`must be at most ${s.maxLength} characters`);
    if (s.format === "email" && !EMAIL_RE.test(v)) bad("must be an email address");
    if (s.pattern !== undefined && !patternOf(s.pattern).test(v)) bad(`must match ${s.pattern}`);
  }
  if (typeof v === "number") {
    if (s.minimum !== undefined && v < s.minimum) bad(`must be at least ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) bad(`must be at most ${s.maximum}`);
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) bad(`must have at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`);
    if (s.maxItems !== undefined && v.length > s.maxItems) bad(`must have at most ${s.maxItems} items`);
    if (s.items) v.forEach((item, i) => check(item, s.items!, `${path}.${i}`));
  }
  if (actual === "object" && (s.properties || s.required || s.additionalProperties === false)) {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (o[r] === undefined) throw invalidParameter(`${path}.${r} is required`, `${path}.${r}`);
    for (const [k, val] of Object.entries(o)) {
      const sub = s.properties?.[k];
      if (sub) check(val, sub, `${path}.${k}`);
      else if (s.additionalProperties === false) throw invalidParameter(`${path}.${k} is not a field of this action`, `${path}.${k}`);
    }
  }
}

/** Throws a 400 naming the field, or answers the input as an object. */
export function checkActionInput(input: unknown, schema: { properties?: Record<string, unknown> }): Record<string, unknown> {
  check(input ?? {}, { ...(schema as Schema), type: "object" }, "input");
  return (input ?? {}) as Record<string, unknown>;
}
