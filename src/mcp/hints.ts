// Tool metadata shared by every tool: annotations (title, read-only/destructive/idempotent/open-world hints) and
// the output schemas of the structured results.
import { z } from "zod";
import { STOP_REASONS } from "../executor/stop-reason";

type Kind =
  /** Reads, changes nothing. */
  | "read"
  /** Adds or sets something; doing it twice leaves the same state. */
  | "set"
  /** Adds something each time (a run, an appended note). */
  | "add"
  /** Removes something. */
  | "remove"
  /** May overwrite what is there, and adds each time (write-memory: overwrite or append). */
  | "rewrite";

const KINDS: Record<Kind, { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean }> = {
  read: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  set: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  add: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  remove: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  rewrite: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
};

/**
 * `title` and `annotations` for registerTool. openWorld: the tool reaches past this server (a model provider,
 * GitHub, Slack, a git remote), so its result depends on the outside world.
 */
export function hints(title: string, kind: Kind, openWorld = false) {
  return { title, annotations: { title, ...KINDS[kind], openWorldHint: openWorld } };
}

/**
 * `error`: the typed error a failed call carries in structuredContent (the REST error body: type, message,
 * code?, param?); on a run or an execution, its failure ({code, message}) or null.
 */
const errorField = z.object({ message: z.string() }).passthrough().nullable();

/**
 * An output schema: the success fields, and `error` for a failed call. Clients validate structuredContent
 * against the schema even when isError is set, so every field is optional and the error shape is part of it.
 */
export function output(shape: z.ZodRawShape) {
  return z.object(shape).partial().extend({ error: errorField.optional().describe("A failed call's typed error (isError); a run's failure, or null") }).passthrough();
}

const id = z.string();
const iso = z.string().nullable();

/** A list tool's answer: the REST pagination envelope. */
export const listOutput = (item: z.ZodTypeAny = z.object({}).passthrough()) =>
  output({ data: z.array(item), first_id: id.nullable(), last_id: id.nullable(), has_more: z.boolean() });

export const skillEntry = z.object({ slug: z.string(), name: z.string(), description: z.string(), category: z.string() }).passthrough();

export const memoryOutput = output({ content: z.string(), version: z.number().int(), updatedAt: iso });

export const executionOutput = output({
  executionId: id,
  status: z.string(),
  skillSlug: z.string(),
  output: z.string().describe("The run's output text"),
  artifactId: id.nullable(),
  cost: z.number(),
  executionTime: z.number().nullable(),
  stopReason: z.enum(STOP_REASONS).nullable().describe("Why a completed run's answer ended: max_tokens, cut off at its token limit; refusal, declined"),
});

export const artifactOutput = output({ id, name: z.string(), mediaType: z.string(), size: z.number(), executionId: id.nullable(), skillSlug: z.string().nullable(), downloadUrl: z.string(), createdAt: z.string() });

/** Whatever a service answers: an object, described by the tool's description. */
export const objectOutput = output({});
