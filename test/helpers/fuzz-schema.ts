// Bodies generated from the request-body schemas in /openapi.json, for test/fuzz.test.ts: values the schema
// accepts (so they pass validation and reach the services), and the same with one field made wrong (so each
// field's validation answers the typed 400, never a 5xx). Strings stay short and URL-ish ones safe (sanitize()).
import fc from "fast-check";
import { SAFE_URLS } from "./openapi-fuzz";

type Schema = Record<string, any>;

const MAX_STRING = 60;
const MAX_ITEMS = 3;

// Lengths in UTF-16 units, as the server's validator counts them (JSON Schema counts code points: looser). No
// string that sanitize() would turn into a URL: the body sent must still be the one the schema accepted.
const urlLike = (s: string) => s.includes("//") || /^[\x00-\x20]*[a-z][a-z0-9+.-]*:/i.test(s);
const shortText = (min: number, max: number) =>
  fc
    .oneof(
      fc.string({ minLength: min, maxLength: max }),
      fc.string({ unit: "grapheme", minLength: min, maxLength: max }),
      fc.constantFrom("summarize", "fuzz", "x".repeat(Math.max(min, 1)), "é💥"),
    )
    .filter((s) => s.length >= min && s.length <= max && !urlLike(s));

/** Values `schema` accepts (as far as JSON Schema says; the service may still refuse them on meaning). */
export function valuesOf(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || Object.keys(schema).length === 0) return fc.jsonValue({ maxDepth: 2 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const { anyOf, oneOf, ...shared } = schema;
  const union = anyOf ?? oneOf;
  // The union's own keywords (Elysia puts t.Integer's minimum there) hold for every branch.
  if (Array.isArray(union)) return fc.oneof(...union.map((s: Schema) => valuesOf({ ...shared, ...s }, depth)));
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((t: string) => valuesOf({ ...schema, type: t }, depth)));
  switch (schema.type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1_000_000 });
    case "number":
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case "string": {
      // Elysia's t.Integer / t.Numeric also take the number as a string.
      if (schema.format === "integer" || schema.format === "numeric")
        return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1_000_000 }).map(String);
      const min = schema.minLength ?? 0;
      const max = Math.max(min, Math.min(schema.maxLength ?? MAX_STRING, MAX_STRING));
      return shortText(min, max);
    }
    case "array": {
      const min = schema.minItems ?? 0;
      return fc.array(valuesOf(schema.items, depth + 1), { minLength: min, maxLength: Math.max(min, Math.min(schema.maxItems ?? MAX_ITEMS, MAX_ITEMS)) });
    }
    case "object":
      return objectsOf(schema, depth);
  }
  return fc.jsonValue({ maxDepth: 2 });
}

function objectsOf(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  const props: Record<string, Schema> = schema.properties ?? {};
  const required: string[] = schema.required ?? [];
  // A record (t.Record: patternProperties, or additionalProperties as a schema): free keys, values by the schema.
  const free = schema.patternProperties ? Object.values(schema.patternProperties)[0] : typeof schema.additionalProperties === "object" ? schema.additionalProperties : null;
  const known = fc.record(Object.fromEntries(Object.entries(props).map(([k, s]) => [k, depth > 4 ? fc.constant(null) : valuesOf(s, depth + 1)])), {
    requiredKeys: required.filter((k) => k in props),
  });
  const minKeys = schema.minProperties ?? 0;
  if (!free) return minKeys ? known.filter((o) => Object.keys(o as object).length >= minKeys) : known;
  const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in props) && k !== "__proto__"), valuesOf(free as Schema, depth + 1), {
    minKeys,
    maxKeys: MAX_ITEMS,
  });
  return fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...(a as object) }));
}

/** Values `schema` refuses by type: one wrong kind of thing per schema type. */
function wrongFor(schema: Schema): fc.Arbitrary<unknown> {
  const t = Array.isArray(schema.type) ? schema.type : [schema.type];
  const pool: unknown[] = [null, true, 7, -1.5, "text", [], {}, [1, "a"], { a: 1 }, SAFE_URLS[0]];
  return fc.constantFrom(
    ...pool.filter((v) => {
      const kind = v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v;
      return !t.includes(kind) && !(kind === "integer" && t.includes("number"));
    }),
  );
}

/** A value `schema` accepts with exactly one top-level field made wrong, dropped when required, or one too many. */
export function nearMisses(schema: Schema): fc.Arbitrary<unknown> {
  const props: Record<string, Schema> = schema.properties ?? {};
  const keys = Object.keys(props);
  if (schema.type !== "object" || keys.length === 0) return wrongFor(schema);
  return fc.tuple(valuesOf(schema), fc.constantFrom(...keys), fc.constantFrom("wrong type", "drop", "extra field")).chain(([base, key, how]) => {
    const obj = { ...(base as Record<string, unknown>) };
    if (how === "drop") {
      delete obj[key];
      return fc.constant(obj);
    }
    if (how === "extra field") return fc.constant({ ...obj, [`unexpected_${key}`]: 1 });
    return wrongFor(props[key]!).map((w) => ({ ...obj, [key]: w }));
  });
}
