// What a definition's templates may read, checked when it is saved: the steps that have ended before each one, and
// the fields its input schema lists when it takes no other.
import { invalidParameter } from "../../lib/errors";
import { isJsonObject } from "../../lib/json-object";
import type { FieldSchema, Step } from "./definition";
import { TEMPLATE_RE } from "./render";

/** A 400 naming the field: every check of a definition refuses with it. */
export const bad = (param: string, message: string): never => {
  throw invalidParameter(`${param}: ${message}`, param);
};

const STEP_REF_RE = /\{\{\s*steps\.([A-Za-z0-9_-]+)/g;

/**
 * The only fields a launch's input can have: its schema's properties when it refuses any other; null when it may
 * carry more (a field read then may come with a launch).
 */
const closedFields = (input: FieldSchema | undefined): string[] | null =>
  input?.additionalProperties === false && isJsonObject(input.properties) ? Object.keys(input.properties) : null;

/** Every string in a value, at any depth (an action's input, a connector's fields). */
const stringsIn = (v: unknown): string[] => (typeof v === "string" ? [v] : Array.isArray(v) ? v.flatMap(stringsIn) : isJsonObject(v) ? Object.values(v).flatMap(stringsIn) : []);

/** The step ids in a list, nested ones included. */
export const idsIn = (steps: Step[]): string[] => steps.flatMap((s) => [s.id, ...(s.kind === "parallel" ? idsIn(s.steps) : s.kind === "branch" ? [...idsIn(s.then), ...idsIn(s.else ?? [])] : [])]);

/**
 * Each `{{steps.<id>…}}` names a step that has ended before this one starts: an earlier one in the same list, or
 * one before the enclosing step (a parallel step's branches do not see each other). A typo or a step that runs later
 * rendered as "" at run time, and the run went on with it (or failed on a blank input far from the cause).
 * `before`: the ids that have ended when the list starts; returns the steps unchanged.
 */
export function checkReferences(steps: Step[], param: string, before: Set<string>, input: FieldSchema | undefined): Step[] {
  const ended = new Set(before);
  steps.forEach((step, i) => {
    checkStepReferences(step, `${param}.${i}`, ended, input);
    for (const id of idsIn([step])) ended.add(id);
  });
  return steps;
}

function checkStepReferences(step: Step, p: string, ended: Set<string>, input: FieldSchema | undefined): void {
  const texts =
    step.kind === "skill" ? [step.input, ...stringsIn(step.connector?.fields)] : step.kind === "approval" ? [step.message] : step.kind === "branch" ? [step.condition.value] : step.kind === "action" ? stringsIn(step.input) : [];
  for (const text of texts)
    for (const [, path] of text.matchAll(TEMPLATE_RE))
      // {{steps}} alone would read every step, a parallel sibling's included (which the check below refuses by name).
      if (!/^(input(\.|$)|steps\.)/.test(path!))
        bad(p, `step '${step.id}' uses {{${path}}}: a template reads {{input.<field>}} or {{steps.<id>.output…}}, and anything else would render as nothing`);
  const fields = closedFields(input);
  if (fields)
    for (const text of texts)
      for (const [, path] of text.matchAll(TEMPLATE_RE)) {
        const field = /^input\.([^.]+)/.exec(path!)?.[1];
        // A launch can never carry it: every run rendered "" there (and paid for a prompt without it).
        if (field !== undefined && !fields.includes(field))
          bad(p, `step '${step.id}' uses {{input.${field}}}, but the input schema takes no field '${field}' (additionalProperties is false; its fields: ${fields.join(", ") || "none"})`);
      }
  for (const text of texts)
    for (const [, ref] of text.matchAll(STEP_REF_RE)) {
      if (ended.has(ref!)) continue;
      const why = ref === step.id ? "that is this step itself" : `there is no step '${ref}' before it`;
      bad(p, `step '${step.id}' uses {{steps.${ref}…}}, but ${why} (a step reads the steps that end before it starts)`);
    }
  // Inside a container, its own id is known (a branch's output is the condition it took), and what came before it.
  const inner = new Set([...ended, step.id]);
  if (step.kind === "parallel") step.steps.forEach((child, j) => checkStepReferences(child, `${p}.steps.${j}`, inner, input));
  if (step.kind === "branch") {
    checkReferences(step.then, `${p}.then`, inner, input);
    if (step.else) checkReferences(step.else, `${p}.else`, inner, input);
  }
}
