// The one test for "a JSON object" (not null, not an array), used wherever parsed JSON or a third party's answer is read.
export const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
