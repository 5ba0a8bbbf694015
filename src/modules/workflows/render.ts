// Templates in a workflow's steps ({{input.x}}, {{steps.id.output…}}) rendered against a run's scope, within a
// budget of rendered text per step.
import { isJsonObject } from "../../lib/json-object";

/** Every template, as render() finds them. */
export const TEMPLATE_RE = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;


const WHOLE_TEMPLATE_RE = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/;

const lookup = (scope: Record<string, unknown>, path: string): unknown => {
  const parts = path.split(".");
  let v: unknown = scope;
  let holder: unknown;
  for (const [i, part] of parts.entries()) {
    // {{steps.<id>.output.<field>}} of a skill step: its output is the model's answer, text, which a judge step is
    // asked to write as JSON; read as text, every such field (a branch's condition) rendered "".
    if (i === 3 && parts[0] === "steps" && parts[2] === "output" && typeof v === "string") v = answerJson(holder as object, v);
    holder = v;
    // Own fields only: "{{input.__proto__}}" or "{{input.constructor}}" name nothing a caller sent.
    v = isJsonObject(v) && Object.hasOwn(v, part) ? v[part] : undefined;
  }
  return v;
};

const FENCED_JSON_RE = /```json[^\n]*\n([\s\S]*?)```/;
/** Each step's answer parsed once per render scope (keyed by its step in the scope), however many fields are read. */
const parsedAnswers = new WeakMap<object, unknown>();

/** The JSON a model's answer is (all of it), or else its first ```json block holds; undefined if neither parses. */
function answerJson(step: object, answer: string): unknown {
  if (parsedAnswers.has(step)) return parsedAnswers.get(step);
  const text = answer.trim();
  const body = text.startsWith("{") || text.startsWith("[") ? text : FENCED_JSON_RE.exec(text)?.[1];
  let parsed: unknown;
  try {
    parsed = body === undefined ? undefined : JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  parsedAnswers.set(step, parsed);
  return parsed;
}

/**
 * An action step's input: every string in it rendered as a template, at any depth. A string that is one
 * template and nothing else keeps the value's own type ("{{input.pull_request.number}}" stays a number), so an
 * action's schema sees what the event carried; a missing value renders as "".
 */
export function renderDeep(value: unknown, scope: Record<string, unknown>, budget = new RenderBudget(), escape?: Escape): unknown {
  if (typeof value === "string") {
    const whole = WHOLE_TEMPLATE_RE.exec(value);
    const v = whole ? lookup(scope, whole[1]!) : undefined;
    if (v === undefined || v === null) return render(value, scope, budget, escape);
    budget.spend(budget.textOf(whole![1]!, v).length);
    return typeof v === "string" && escape ? escape(v) : v;
  }
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, scope, budget, escape));
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, scope, budget, escape)]));
  return value;
}

/**
 * How a value is written into the text of what it is sent to (Slack's mrkdwn escapes &, < and >): the template's own
 * text is the definition's author's, the values are the run's (a pull request's title, a model's answer).
 */
export type Escape = (value: string) => string;

/** What one step's templates may render to, in all: 1 MiB of text. */
export const MAX_RENDERED_CHARS = 1024 * 1024;

/**
 * The text a step's templates have rendered so far. Without a bound, a 3 KB definition repeating {{input.x}} 300
 * times, launched with a 1 MB x, stored a 300 MB run row; past the bound the step fails (TEMPLATE_TOO_LARGE).
 */
export class RenderBudget {
  private left = MAX_RENDERED_CHARS;
  /** A value as text, once per path: a value used many times is serialized (and measured) once. */
  private texts = new Map<string, string>();
  textOf(path: string, v: unknown): string {
    let text = this.texts.get(path);
    if (text === undefined) this.texts.set(path, (text = typeof v === "string" ? v : (JSON.stringify(v) ?? "")));
    return text;
  }
  spend(chars: number): void {
    this.left -= chars;
    if (this.left < 0) throw new TemplateTooLarge();
  }
}

/** The budget ran out: the step fails with this (its id added by the engine). */
export class TemplateTooLarge extends Error {
  readonly code = "TEMPLATE_TOO_LARGE";
  constructor() {
    super(`its templates render to more than ${MAX_RENDERED_CHARS} characters: give it smaller values, or use each one fewer times`);
  }
}

/** {{input.x}}, {{steps.id.output}}, {{steps.id.output.field}}: objects render as JSON. */
export function render(template: string, scope: Record<string, unknown>, budget = new RenderBudget(), escape?: Escape): string {
  budget.spend(template.length);
  return template.replace(TEMPLATE_RE, (_m, path: string) => {
    const v = lookup(scope, path);
    if (v === undefined || v === null) return "";
    const text = budget.textOf(path, v);
    budget.spend(text.length);
    return escape ? escape(text) : text;
  });
}
