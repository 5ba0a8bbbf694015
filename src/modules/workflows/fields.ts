// Checks a workflow's inputData and an approval's resumeData against their field schema with Ajv (JSON Schema),
// failures as the typed 400 naming the field (inputData.topic).
import type { ErrorObject, ValidateFunction } from "ajv";
import type AjvClass from "ajv";
import { InvalidRequestError, invalidParameter } from "../../lib/errors";
import { costlyKeyword } from "./schema-cost";
import { linearUniqueItems } from "./unique-items";
import type { FieldSchema } from "./definition";

// strict off: a definition's schema may carry keywords we do not act on (format, examples); they are not errors.
// Made on the first check, not at start: Ajv is loaded (require) only when a workflow's fields are checked.
let ajvInstance: AjvClass | undefined;
const ajv = () => (ajvInstance ??= linearUniqueItems(new ((require("ajv") as typeof import("ajv")).default)({ allErrors: false, strict: false })));

// Definitions are few and reused: one compiled validator per distinct schema, bounded all the same.
const compiled = new Map<string, ValidateFunction>();
const COMPILED_MAX = 500;

/** A schema that would cost every check too much (./schema-cost): `at` is the keyword's path below the schema. */
class CostlySchema extends Error {
  constructor(readonly at: string[], why: string) {
    super(why);
  }
}

/**
 * The compiled validator of a schema. Throws CostlySchema, or Ajv's own error for a schema it cannot compile (a
 * keyword of the wrong type, a $ref to nothing, a bad pattern). Both are found once per schema, when it is compiled:
 * at its definition's save, and at the first launch of a definition saved before these checks.
 */
function validatorFor(schema: FieldSchema | undefined): ValidateFunction {
  const json = {
    type: "object",
    ...(schema?.required ? { required: schema.required } : {}),
    ...(schema?.properties ? { properties: schema.properties } : {}),
    ...(typeof schema?.additionalProperties === "boolean" ? { additionalProperties: schema.additionalProperties } : {}),
  };
  const key = JSON.stringify(json);
  let v = compiled.get(key);
  if (!v) {
    for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
      const costly = costlyKeyword(prop);
      if (costly) throw new CostlySchema(["properties", name, ...costly.path], costly.why);
    }
    v = ajv().compile(json);
    if (compiled.size >= COMPILED_MAX) {
      // Ajv keeps every schema it compiled too: forgotten with ours, so both stay bounded.
      compiled.clear();
      ajv().removeSchema();
    }
    compiled.set(key, v);
  }
  return v;
}

/**
 * A field schema as a definition is saved: one Ajv compiles, and none that would cost every launch too much
 * (./schema-cost), refused with the param at fault. Before, a schema Ajv refuses was a 500 on every launch, hook
 * delivery and resume (a definition saved then is refused at its first launch instead: checkFields).
 */
export function checkFieldSchema(schema: FieldSchema, param: string): void {
  try {
    validatorFor(schema);
  } catch (whole) {
    if (whole instanceof CostlySchema) {
      const at = [param, ...whole.at].join(".");
      throw invalidParameter(`${at}: ${whole.message}`, at);
    }
    // Named by the property at fault when one fails on its own (a $ref may only resolve within the whole schema).
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      try {
        ajv().compile(prop as object);
      } catch (e) {
        throw invalidParameter(`${param}.properties.${name}: is not a valid JSON Schema: ${(e as Error).message}`, `${param}.properties.${name}`);
      } finally {
        ajv().removeSchema(prop as object);
      }
    }
    throw invalidParameter(`${param}: is not a valid JSON Schema: ${(whole as Error).message}`, param);
  }
}

/** The param an Ajv error is about, and what is wrong with it, in the words the API has always used. */
function describe(e: ErrorObject, param: string): { param: string; message: string } {
  const path = e.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (e.keyword === "required") return { param: [param, ...path, e.params.missingProperty as string].join("."), message: "is required" };
  if (e.keyword === "additionalProperties") return { param: [param, ...path, e.params.additionalProperty as string].join("."), message: "is not a field this takes" };
  const at = [param, ...path].join(".");
  if (e.keyword === "type") return { param: at, message: path.length ? `must be ${/^[aeiou]/.test(String(e.params.type)) ? "an" : "a"} ${e.params.type}` : "must be an object" };
  return { param: at, message: e.message ?? "is not valid" };
}

/** Checks data against a field schema: an object, required names present, declared types right. */
export function checkFields(data: unknown, schema: FieldSchema | undefined, param: string): Record<string, unknown> {
  if (data === undefined) data = {};
  let validate: ValidateFunction;
  try {
    validate = validatorFor(schema);
  } catch (e) {
    // A definition saved before its schemas were checked at save time: a 400 that says whose fault, not a 500.
    const what = e instanceof CostlySchema ? `its ${e.at.join(".")}: ${e.message}` : `it is not valid JSON Schema (${(e as Error).message})`;
    throw new InvalidRequestError(`The workflow's schema for ${param} is refused, ${what}: an admin must save the definition again, fixed`, param, "INVALID_WORKFLOW_SCHEMA");
  }
  if (!validate(data)) {
    const bad = describe(validate.errors![0]!, param);
    throw invalidParameter(`${bad.param}: ${bad.message}`, bad.param);
  }
  return data as Record<string, unknown>;
}
