// JSON Schema's uniqueItems in one pass: each item's canonical JSON (object keys sorted, so {"a":1,"b":2} and
// {"b":2,"a":1} are the same item, as JSON Schema's equality has it) into a Set. Ajv's own compares every pair of
// items for anything but scalars: 1,000 arrays of 1,000 numbers differing in their first (2 MB of a launch's
// input) held the event loop ~1 s, nested arrays more, on input anyone who may launch sends.
import type AjvClass from "ajv";
import type { DataValidateFunction } from "ajv/dist/types";

/** The item as one string; equal items (by JSON Schema's equality) give equal strings. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) {
    // An array of scalars (the common case, and the costly one: a long list of numbers) in one native call.
    if (!v.some((x) => x !== null && typeof x === "object")) return JSON.stringify(v);
    let s = "[";
    for (let i = 0; i < v.length; i++) s += (i ? "," : "") + canonical(v[i]);
    return s + "]";
  }
  const keys = Object.keys(v).sort();
  let s = "{";
  for (let i = 0; i < keys.length; i++) s += (i ? "," : "") + JSON.stringify(keys[i]) + ":" + canonical((v as Record<string, unknown>)[keys[i]!]);
  return s + "}";
}

const unique: DataValidateFunction = (on: unknown, data: unknown): boolean => {
  if (on !== true || !Array.isArray(data)) return true;
  const seen = new Map<string, number>();
  for (let i = 0; i < data.length; i++) {
    const key = canonical(data[i]);
    const j = seen.get(key);
    if (j !== undefined) {
      // Ajv's own words for it, so a 400 reads as before.
      unique.errors = [{ keyword: "uniqueItems", message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`, params: { i, j } }];
      return false;
    }
    seen.set(key, i);
  }
  return true;
};

/** Replaces Ajv's uniqueItems with the linear one. */
export function linearUniqueItems(ajv: AjvClass): AjvClass {
  ajv.removeKeyword("uniqueItems");
  return ajv.addKeyword({ keyword: "uniqueItems", schemaType: "boolean", errors: true, validate: unique });
}
