// Workflow definitions: JSON documents of steps (skill, approval, parallel, branch), validated with errors that
// name the step and field.
import { isRepoName } from "../../lib/github-names";
import { Cron } from "croner";
import { checkFieldSchema, checkFields } from "./fields";
import type { Catalog } from "../skills/catalog";
import { checkConnector, type Connector } from "../executions/prompt";
import { bad, checkReferences, idsIn } from "./references";
import { isJsonObject } from "../../lib/json-object";
import { isPlainLine } from "../../lib/display-name";

export type FieldType = "string" | "number" | "boolean" | "object" | "array";

export interface FieldSchema {
  required?: string[];
  properties?: Record<string, { type?: FieldType; description?: string }>;
  /** false: a field not in properties is refused. */
  additionalProperties?: boolean;
}

/** What a field schema's top level may say (annotations too); a constraint beyond these would be saved and never acted on. */
const SCHEMA_KEYS = new Set(["type", "required", "properties", "additionalProperties", "title", "description", "$schema", "$id", "$comment", "examples"]);

export type Step =
  | { id: string; kind: "skill"; skill: string; input: string; connector?: StepConnector }
  | { id: string; kind: "approval"; message: string; resumeSchema?: FieldSchema }
  | { id: string; kind: "parallel"; steps: Step[] }
  | { id: string; kind: "branch"; condition: Condition; then: Step[]; else?: Step[] }
  | { id: string; kind: "action"; integration: string; action: string; input: Record<string, unknown> };

/** A skill step's source to read, as a run's `connector`; its strings are templates (rendered with renderDeep). */
export interface StepConnector {
  type: Connector["type"];
  fields: Record<string, unknown>;
}

/** The integrations a definition may name in `action` steps: action names per integration id. */
export interface IntegrationCatalog {
  actionsOf(integration: string): string[] | undefined;
  /** How an action writes a template's values into its input (see ActionSpec.escape); undefined: as they are. */
  escapeOf?(integration: string, action: string): ((value: string) => string) | undefined;
}

export interface Condition {
  /** A template like "{{steps.review.output.approved}}", compared after rendering. */
  value: string;
  equals?: string | number | boolean;
  contains?: string;
}

export interface CronTrigger {
  cron: string;
  timezone?: string;
  input?: Record<string, unknown>;
  /** false: kept in the definition, never fired. */
  enabled?: boolean;
}

/** The GitHub events an inbound github trigger can start a workflow on (see modules/triggers/github.ts). */
export const GITHUB_EVENTS = ["push", "pull_request", "issues"] as const;
export type GithubEvent = (typeof GITHUB_EVENTS)[number];

/** Inbound triggers: each gets an event_triggers row (its own hook URL and signing secret) when the definition is saved. */
export type EventTrigger = { webhook: Record<string, never>; enabled?: boolean } | { github: { events: GithubEvent[]; repo?: string }; enabled?: boolean };

export type Trigger = CronTrigger | EventTrigger;

export const isCron = (t: Trigger): t is CronTrigger => "cron" in t;
/** The request id of the runs a cron trigger launches (`<workflow>#<n>` → `cron-<workflow>#<n>`): what finds its last firing. */
export const cronRequestId = (triggerId: string) => `cron-${triggerId}`;

/** More would be a definition doing a registry's job; each one holds a secret and a hook URL. */
export const MAX_EVENT_TRIGGERS = 10;
/** Each cron is judged (./cron-interval) at every save and schedule: a definition of thousands held the loop for seconds. */
export const MAX_CRON_TRIGGERS = 20;

export interface WorkflowDefinition {
  id: string;
  name: string;
  description?: string;
  input?: FieldSchema;
  steps: Step[];
  triggers?: Trigger[];
}

const ID_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const STEP_ID_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const TYPES = new Set(["string", "number", "boolean", "object", "array"]);

/** The fields each kind of step has. */
const STEP_FIELDS: Record<string, string[]> = {
  skill: ["id", "kind", "skill", "input", "connector"],
  approval: ["id", "kind", "message", "resumeSchema"],
  parallel: ["id", "kind", "steps"],
  branch: ["id", "kind", "condition", "then", "else"],
  action: ["id", "kind", "integration", "action", "input"],
};

function checkSchema(v: unknown, param: string): FieldSchema | undefined {
  if (v === undefined) return undefined;
  if (!isJsonObject(v)) bad(param, "must be an object with required and properties");
  const s = v as FieldSchema & { type?: unknown };
  const unknown = Object.keys(s).find((k) => !SCHEMA_KEYS.has(k));
  if (unknown !== undefined) bad(`${param}.${unknown}`, `is not acted on at this level: a field schema takes ${[...SCHEMA_KEYS].join(", ")} (each property's schema may say more)`);
  if (s.type !== undefined && s.type !== "object") bad(`${param}.type`, "must be object");
  if (s.additionalProperties !== undefined && typeof s.additionalProperties !== "boolean") bad(`${param}.additionalProperties`, "must be true or false");
  if (s.required !== undefined && (!Array.isArray(s.required) || s.required.some((r) => typeof r !== "string"))) bad(`${param}.required`, "must be a list of names");
  // Properties given, a required name outside them is a typo: no form asks for it, so a launch from the web app is
  // refused until someone sends it by hand.
  const missing = isJsonObject(s.properties) ? s.required?.find((r) => !Object.hasOwn(s.properties!, r)) : undefined;
  if (missing !== undefined) bad(`${param}.required`, `names '${missing}', which is not one of its properties (${Object.keys(s.properties!).join(", ") || "none"})`);
  if (s.properties !== undefined) {
    if (!isJsonObject(s.properties)) bad(`${param}.properties`, "must be an object");
    for (const [k, p] of Object.entries(s.properties!)) {
      if (!isJsonObject(p)) bad(`${param}.properties.${k}`, "must be an object");
      if (p.type !== undefined && !TYPES.has(p.type)) bad(`${param}.properties.${k}.type`, `must be one of ${[...TYPES].join(", ")}`);
    }
  }
  return s;
}

function checkSteps(raw: unknown, param: string, catalog: Catalog, seen: Set<string>, integrations?: IntegrationCatalog): Step[] {
  if (!Array.isArray(raw) || raw.length === 0) bad(param, "must be a non-empty list of steps");
  return (raw as unknown[]).map((s, i) => {
    const p = `${param}.${i}`;
    if (!isJsonObject(s)) bad(p, "must be an object");
    const step = s as Record<string, unknown>;
    if (typeof step.id !== "string" || !STEP_ID_RE.test(step.id)) bad(`${p}.id`, "must be a name of letters, digits, '_' or '-'");
    const id = step.id as string;
    if (seen.has(id)) bad(`${p}.id`, `step id '${id}' is used twice`);
    seen.add(id);
    const where = `${p} (${id})`;
    // A field the kind does not have (a typo, `if` or `retries` this engine does not do) would be ignored in silence.
    const fields = STEP_FIELDS[step.kind as string];
    const unknown = fields && Object.keys(step).find((k) => !fields.includes(k));
    if (unknown) bad(`${p}.${unknown}`, `step '${id}': a ${String(step.kind)} step has no field '${unknown}' (it has ${fields.join(", ")})`);
    switch (step.kind) {
      case "skill":
        if (typeof step.skill !== "string" || !catalog.bySlug.has(step.skill)) bad(`${p}.skill`, `step '${id}' names an unknown skill '${String(step.skill)}'`);
        if (typeof step.input !== "string" || !step.input.trim()) bad(`${p}.input`, `step '${id}' needs an input template`);
        return {
          id,
          kind: "skill",
          skill: step.skill as string,
          input: step.input as string,
          ...(step.connector !== undefined ? { connector: checkStepConnector(step.connector, `${p}.connector`, id) } : {}),
        };
      case "approval":
        if (typeof step.message !== "string" || !step.message.trim()) bad(`${p}.message`, `step '${id}' needs a message for the approver`);
        return { id, kind: "approval", message: step.message as string, resumeSchema: checkSchema(step.resumeSchema, `${p}.resumeSchema`) };
      case "parallel":
        return { id, kind: "parallel", steps: checkSteps(step.steps, `${p}.steps`, catalog, seen, integrations) };
      case "branch": {
        const c = step.condition;
        if (!isJsonObject(c) || typeof c.value !== "string") bad(`${p}.condition`, `step '${id}' needs a condition { value, equals | contains }`);
        const cond = c as unknown as Condition;
        if (cond.equals === undefined && cond.contains === undefined) bad(`${p}.condition`, `step '${id}': give equals or contains`);
        // The rendered value is text: it equals a string, number or boolean as written, and never an object or a list.
        if (cond.equals !== undefined && !["string", "number", "boolean"].includes(typeof cond.equals)) bad(`${p}.condition.equals`, `step '${id}': equals must be a string, number or boolean`);
        if (cond.contains !== undefined && typeof cond.contains !== "string") bad(`${p}.condition.contains`, `step '${id}': contains must be a string`);
        return {
          id,
          kind: "branch",
          condition: cond,
          then: checkSteps(step.then, `${p}.then`, catalog, seen, integrations),
          ...(step.else !== undefined ? { else: checkSteps(step.else, `${p}.else`, catalog, seen, integrations) } : {}),
        };
      }
      case "action": {
        if (typeof step.integration !== "string") bad(`${p}.integration`, `step '${id}' needs an integration (slack, email, webhook, github)`);
        if (typeof step.action !== "string") bad(`${p}.action`, `step '${id}' needs an action`);
        if (step.input !== undefined && !isJsonObject(step.input)) bad(`${p}.input`, `step '${id}': input must be an object (its strings are templates)`);
        const actions = integrations?.actionsOf(step.integration as string);
        if (integrations && !actions) bad(`${p}.integration`, `step '${id}' names an unknown integration '${String(step.integration)}'`);
        if (actions && !actions.includes(step.action as string))
          bad(`${p}.action`, `step '${id}': ${String(step.integration)} has no action '${String(step.action)}' (it has ${actions.join(", ")})`);
        return { id, kind: "action", integration: step.integration as string, action: step.action as string, input: (step.input as Record<string, unknown>) ?? {} };
      }
      default:
        return bad(`${p}.kind`, `${where}: kind must be skill, action, approval, parallel or branch`);
    }
  });
}

const CONNECTOR_TYPES = new Set<string>(["github", "local", "remote"]);
const hasTemplate = (v: unknown) => typeof v === "string" && v.includes("{{");

/**
 * A skill step's connector, checked as far as it can be before the run: the shape, and every field that is not a
 * template by the same rules a run applies (a template stands in with a value that passes; the run checks what it
 * rendered to). Whether the workspace has connected the connector is the run's question: it may connect later.
 */
function checkStepConnector(raw: unknown, param: string, id: string): StepConnector {
  if (!isJsonObject(raw)) bad(param, `step '${id}': connector must be an object {type, fields}`);
  const c = raw as Record<string, unknown>;
  for (const k of Object.keys(c)) if (k !== "type" && k !== "fields") bad(`${param}.${k}`, "is not a connector field (type, fields)");
  if (typeof c.type !== "string" || !CONNECTOR_TYPES.has(c.type)) bad(`${param}.type`, `step '${id}': connector type must be one of ${[...CONNECTOR_TYPES].join(", ")}`);
  if (!isJsonObject(c.fields)) bad(`${param}.fields`, `step '${id}': connector fields must be an object (github: {repo, ref?, paths?}; local, remote: {source, ref?, paths?})`);
  const fields = c.fields as Record<string, unknown>;
  const stand = { repo: "owner/repo", source: "source", ref: "main" } as Record<string, string>;
  const probe: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (k === "paths" && Array.isArray(v)) probe[k] = v.map((x) => (hasTemplate(x) ? "path" : x));
    else probe[k] = hasTemplate(v) ? (k === "paths" ? [] : (stand[k] ?? v)) : v;
  }
  try {
    checkConnector({ type: c.type as Connector["type"], fields: probe });
  } catch (e) {
    const inner = (e as { param?: string }).param ?? "connector";
    bad(`${param}${inner.slice("connector".length)}`, `step '${id}': ${(e as Error).message}`);
  }
  return { type: c.type as Connector["type"], fields };
}


function checkEventTrigger(t: Record<string, unknown>, kind: "webhook" | "github", p: string): EventTrigger {
  for (const k of Object.keys(t)) if (k !== kind && k !== "enabled") bad(`${p}.${k}`, `is not a field of a ${kind} trigger (give ${kind} and optionally enabled)`);
  if (t.enabled !== undefined && typeof t.enabled !== "boolean") bad(`${p}.enabled`, "must be true or false");
  const enabled = t.enabled === undefined ? {} : { enabled: t.enabled as boolean };
  const s = t[kind];
  if (!isJsonObject(s)) bad(`${p}.${kind}`, "must be an object");
  const settings = s as Record<string, unknown>;
  if (kind === "webhook") {
    for (const k of Object.keys(settings)) bad(`${p}.webhook.${k}`, "a webhook trigger takes no settings ({})");
    return { webhook: {}, ...enabled };
  }
  for (const k of Object.keys(settings)) if (k !== "events" && k !== "repo") bad(`${p}.github.${k}`, "is not a github trigger setting (events, repo)");
  let events: GithubEvent[] = [...GITHUB_EVENTS];
  if (settings.events !== undefined) {
    const raw = settings.events;
    if (!Array.isArray(raw) || raw.length === 0 || raw.some((e) => !(GITHUB_EVENTS as readonly unknown[]).includes(e)))
      bad(`${p}.github.events`, `must be a non-empty list of ${GITHUB_EVENTS.join(", ")}`);
    // Canonical order, so re-saving the same events in another order is the same trigger (same id and secret).
    events = GITHUB_EVENTS.filter((e) => (raw as unknown[]).includes(e));
  }
  if (settings.repo !== undefined && !isRepoName(settings.repo)) bad(`${p}.github.repo`, "must be 'owner/repo'");
  return { github: { events, ...(settings.repo !== undefined ? { repo: settings.repo as string } : {}) }, ...enabled };
}

const CRON_FIELDS = new Set(["cron", "timezone", "input", "enabled"]);

function isTimeZone(zone: unknown): boolean {
  if (typeof zone !== "string" || zone === "") return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function checkTriggers(raw: unknown, input: FieldSchema | undefined): Trigger[] {
  if (!Array.isArray(raw)) bad("triggers", "must be a list");
  const out = (raw as unknown[]).map((t, i): Trigger => {
    const p = `triggers.${i}`;
    if (!isJsonObject(t)) bad(p, "must be an object: {cron, timezone?, input?}, {webhook: {}} or {github: {events?, repo?}}");
    const tr = t as Record<string, unknown>;
    const kinds = (["cron", "webhook", "github"] as const).filter((k) => tr[k] !== undefined);
    if (kinds.length !== 1) bad(p, "give exactly one of cron, webhook or github");
    if (kinds[0] !== "cron") return checkEventTrigger(tr, kinds[0]!, p);
    if (typeof tr.cron !== "string") bad(`${p}.cron`, "must be a cron pattern");
    // croner takes any string as a zone and fails only when it computes a tick: every sync would then fail.
    if (tr.timezone !== undefined && !isTimeZone(tr.timezone)) bad(`${p}.timezone`, `is not a time zone this server knows: ${JSON.stringify(tr.timezone)} (an IANA name, e.g. Europe/Paris)`);
    let fires = true;
    try {
      const cron = new Cron(tr.cron as string, { paused: true, timezone: tr.timezone as string | undefined });
      fires = cron.nextRun() !== null;
      cron.stop();
    } catch (e) {
      bad(`${p}.cron`, `is not a valid cron pattern or timezone: ${(e as Error).message}`);
    }
    // Listed as enabled, it would never launch a run, and say nothing: "0 0 30 2 *" (February 30), a year gone by.
    if (!fires) bad(`${p}.cron`, `never fires: no date to come matches ${JSON.stringify(tr.cron)}`);
    for (const k of Object.keys(tr)) if (!CRON_FIELDS.has(k)) bad(`${p}.${k}`, "is not a field of a cron trigger (cron, timezone, input, enabled)");
    if (tr.enabled !== undefined && typeof tr.enabled !== "boolean") bad(`${p}.enabled`, "must be true or false");
    if (tr.input !== undefined && !isJsonObject(tr.input)) bad(`${p}.input`, "must be an object");
    // What every tick will launch with: refused now, not logged as a failed launch on every tick.
    checkFields(tr.input, input, `${p}.input`);
    return tr as unknown as CronTrigger;
  });
  if (out.filter((t) => !isCron(t)).length > MAX_EVENT_TRIGGERS) bad("triggers", `at most ${MAX_EVENT_TRIGGERS} webhook and github triggers per workflow`);
  if (out.filter(isCron).length > MAX_CRON_TRIGGERS) bad("triggers", `at most ${MAX_CRON_TRIGGERS} cron triggers per workflow`);
  return out;
}

const DEFINITION_FIELDS = new Set(["id", "name", "description", "input", "steps", "triggers", "source", "$schema"]);
const MAX_NAME = 100;
const MAX_DESCRIPTION = 2000;

export function validateDefinition(raw: unknown, catalog: Catalog, integrations?: IntegrationCatalog): WorkflowDefinition {
  if (!isJsonObject(raw)) bad("definition", "must be a JSON object");
  const d = raw as Record<string, unknown>;
  // As every body elsewhere: a field not taken is named, not dropped ("trigers" would save a workflow that never fires).
  // `source` is what GET adds, so a definition read back saves as it is; `$schema` is what editors add.
  for (const k of Object.keys(d)) if (!DEFINITION_FIELDS.has(k)) bad(k, "is not a field of a workflow definition (id, name, description, input, steps, triggers)");
  if (typeof d.id !== "string" || !ID_RE.test(d.id)) bad("id", "must be 1–64 of a-z, 0-9 and '-'");
  if (typeof d.name !== "string" || !d.name.trim()) bad("name", "is required");
  // Shown in pages, lists and the CLI as a workspace's or a key's name is: one line of plain text, as long.
  const name = (d.name as string).trim();
  if (name.length > MAX_NAME || !isPlainLine(name)) bad("name", `must be one line of visible text, at most ${MAX_NAME} characters`);
  if (d.description !== undefined && (typeof d.description !== "string" || d.description.length > MAX_DESCRIPTION)) bad("description", `must be a string of at most ${MAX_DESCRIPTION} characters`);
  const input = checkSchema(d.input, "input");
  // A cron's input is checked against the input schema: the schema first, so a bad one is named as the fault (only
  // then: Ajv loads on a workflow's first use, and the bundled definitions, checked at start, have no such input).
  if (input && Array.isArray(d.triggers) && d.triggers.some((t) => isJsonObject(t) && t.input !== undefined)) checkFieldSchema(input, "input");
  const triggers = d.triggers === undefined ? undefined : checkTriggers(d.triggers, input);
  return {
    id: d.id as string,
    name,
    ...(d.description ? { description: d.description as string } : {}),
    input,
    steps: checkReferences(checkStepCount(checkSteps(d.steps, "steps", catalog, new Set(), integrations)), "steps", new Set(), input),
    ...(triggers ? { triggers: triggers as Trigger[] } : {}),
  };
}

/**
 * What Ajv and the pattern check think of a definition's field schemas (its input and its approvals' resumeSchema):
 * run when a definition is saved, not in validateDefinition, which the bundled definitions pass at every start
 * (Ajv loads on a workflow's first use, not at start: test/cold-start.test.ts).
 */
export function checkDefinitionSchemas(def: WorkflowDefinition): void {
  if (def.input) checkFieldSchema(def.input, "input");
  const walk = (steps: Step[], param: string): void =>
    steps.forEach((step, i) => {
      const p = `${param}.${i}`;
      if (step.kind === "approval" && step.resumeSchema) checkFieldSchema(step.resumeSchema, `${p}.resumeSchema`);
      if (step.kind === "parallel") walk(step.steps, `${p}.steps`);
      if (step.kind === "branch") {
        walk(step.then, `${p}.then`);
        if (step.else) walk(step.else, `${p}.else`);
      }
    });
  walk(def.steps, "steps");
}

/** Steps in one definition, nested ones included: a workflow, not a program (and its checks stay cheap). */
export const MAX_STEPS = 200;

function checkStepCount(steps: Step[]): Step[] {
  const n = idsIn(steps).length;
  if (n > MAX_STEPS) bad("steps", `has ${n} steps, nested ones included; a definition may have at most ${MAX_STEPS}`);
  return steps;
}
