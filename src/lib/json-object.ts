// The one test for "a JSON object" (not null, not an array), used wherever parsed JSON or a third party's answer is read.
export const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** JSON with every object's keys sorted: the same text for the same value, whatever order its fields were written in. */
export function sortedJson(v: unknown): string {
  return JSON.stringify(v, (_key, value: unknown) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    // No prototype: a "__proto__" field stays a field (on a plain object the assignment would set the prototype).
    const sorted: Record<string, unknown> = Object.create(null);
    for (const k of Object.keys(value).sort()) sorted[k] = (value as Record<string, unknown>)[k];
    return sorted;
  });
}
