// Checks an action's input against its JSON Schema (the subset our actions use: object, string, integer,
// number, boolean, array; required, additionalProperties, minLength/maxLength, enum, format email, items,
// maxItems), naming the first bad field as `input.<path>`.
import { InvalidRequestError } from "../../lib/errors";

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  minLength?: number;
  maxLength?: number;
  enum?: unknown[];
  format?: string;
  items?: Schema;
  maxItems?: number;
};

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const typeOf = (v: unknown): string => (Array.isArray(v) ? "array" : v === null ? "null" : Number.isInteger(v) ? "integer" : typeof v);

function check(v: unknown, s: Schema, path: string): void {
  const bad = (what: string): never => {
    throw new InvalidRequestError(`${path} ${what}`, path);
  };
  const actual = typeOf(v);
  if (s.type && !(s.type === actual || (s.type === "number" && actual === "integer"))) bad(`must be ${s.type === "integer" || s.type === "array" || s.type === "object" ? "an" : "a"} ${s.type}`);
  if (s.enum && !s.enum.includes(v)) bad(`must be one of ${s.enum.map(String).join(", ")}`);
  if (typeof v === "string") {
    if (s.minLength !== undefined && v.length < s.minLength) bad(s.minLength === 1 ? "must not be empty" : `must be at least ${s.minLength} characters`);
    if (s.maxLength !== undefined && v.length > s.maxLength) bad(`must be at most ${s.maxLength} characters`);
    if (s.format === "email" && !EMAIL_RE.test(v)) bad("must be an email address");
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) bad(`must have at most ${s.maxItems} items`);
    if (s.items) v.forEach((item, i) => check(item, s.items!, `${path}.${i}`));
  }
  if (actual === "object" && (s.properties || s.required || s.additionalProperties === false)) {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (o[r] === undefined) throw new InvalidRequestError(`${path}.${r} is required`, `${path}.${r}`);
    for (const [k, val] of Object.entries(o)) {
      const sub = s.properties?.[k];
      if (sub) check(val, sub, `${path}.${k}`);
      else if (s.additionalProperties === false) throw new InvalidRequestError(`${path}.${k} is not a field of this action`, `${path}.${k}`);
    }
  }
}

/** Throws a 400 naming the field, or answers the input as an object. */
export function checkActionInput(input: unknown, schema: { properties?: Record<string, unknown> }): Record<string, unknown> {
  check(input ?? {}, { ...(schema as Schema), type: "object" }, "input");
  return (input ?? {}) as Record<string, unknown>;
}
