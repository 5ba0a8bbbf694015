// The workspace's shared memory.md: versioned so writers can detect each other (ETag / If-Match),
// with an atomic append so concurrent agents never lose a note. Every write is a `memory-state` event on the bus
// (version only, not the content), so MCP subscribers of clanker://memory hear of REST and MCP writes alike.
import { eq, sql } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { InvalidRequestError, PreconditionFailedError, RequestTooLargeError } from "../../lib/errors";
import { toIso } from "../../lib/clock";
import { LOCK_SPACES, type Store, type TxOptions } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { prepared } from "../../store/prepared";
import { memory } from "../../store/schema";
import type { EventBus } from "../events/bus";
import type { RunOptions } from "../../http/idempotency";

export const MEMORY_SEPARATOR = "\n\n---\n\n";
export const MEMORY_MAX_BYTES = 1024 * 1024;
export const MEMORY_EVENT = "memory-state";

export interface MemoryDoc {
  content: string;
  version: number;
  updatedAt: string | null;
}

export const etagOf = (version: number): string => `"v${version}"`;

/**
 * If-Match (RFC 9110 §13.1.1): `*`, or a list of entity tags compared strongly, so a weak one (W/"v3") never matches.
 * Absent, anything goes.
 */
function assertMatches(ifMatch: string | null | undefined, version: number): void {
  if (!ifMatch || ifMatch.trim() === "*") return;
  if (ifMatch.split(",").some((tag) => tag.trim() === etagOf(version))) return;
  throw new PreconditionFailedError(`Working memory changed since you read it (now ${etagOf(version)}); read it again and retry`, "ETAG_MISMATCH");
}

/**
 * Writers of one workspace's memory queue on its lock (under PostgreSQL): 40 appends at once all land, none retried.
 * The routes pass it to idempotent() too, whose transaction is the outer one.
 */
export const oneWriter = (ctx: Ctx): TxOptions => ({ lock: [LOCK_SPACES.memory, ctx.workspaceId] });

/**
 * A write under an idempotency key (REST's append, MCP's write-memory): kept without the document, and a replay
 * answers the document as it is now (the first answer's, unless written since). Each keyed append to a memory near
 * its 1 MiB kept a copy of the whole document for a day: 50 notes, 45 MB.
 */
export const writeOnce = (ctx: Ctx, read: (ctx: Ctx) => Promise<MemoryDoc>): RunOptions => ({
  ...oneWriter(ctx),
  keep: (doc) => ({ ...(doc as MemoryDoc), content: undefined }),
  replayAs: () => read(ctx),
});

// Agents read and write memory on every heartbeat: prepared.
const ph = sql.placeholder;
const memoryOf = prepared((db) => db.select().from(memory).where(eq(memory.workspaceId, ph("workspaceId"))));
const upsertMemory = prepared((db) =>
  db
    .insert(memory)
    .values({ workspaceId: ph("workspaceId"), content: ph("content"), version: ph("version"), updatedAt: ph("now") })
    .onConflictDoUpdate({ target: memory.workspaceId, set: { content: sql`excluded.content`, version: sql`excluded.version`, updatedAt: sql`excluded.updated_at` } }),
);

export function createMemoryService(store: Store, bus?: EventBus) {
  async function read(workspaceId: number): Promise<MemoryDoc> {
    const [row] = await memoryOf(store, { workspaceId });
    return row ? { content: row.content, version: row.version, updatedAt: toIso(row.updatedAt) } : { content: "", version: 0, updatedAt: null };
  }

  function bounded(content: string, param: string): void {
    if (Buffer.byteLength(content) > MEMORY_MAX_BYTES)
      throw new RequestTooLargeError(`Working memory is limited to ${MEMORY_MAX_BYTES} bytes`, param);
  }

  /** Inside the caller's tx: the row, its audit and its event (the bus delivers it once the tx has committed). */
  async function save(ctx: Ctx, text: string, action: string, metadata: Record<string, unknown>): Promise<MemoryDoc> {
    // As the store keeps it (UTF-8: a lone surrogate becomes U+FFFD), so the answer is the document that exists.
    const content = text.toWellFormed();
    const prev = await read(ctx.workspaceId);
    const now = Date.now();
    const version = prev.version + 1;
    await upsertMemory(store, { workspaceId: ctx.workspaceId, content, version, now });
    await writeAudit(store, ctx, { action, resourceType: "memory", resourceId: null, metadata: { ...metadata, version, bytes: Buffer.byteLength(content) } });
    const doc = { content, version, updatedAt: toIso(now) };
    if (bus) await bus.append(ctx.workspaceId, MEMORY_EVENT, "memory", { version, updatedAt: doc.updatedAt, bytes: Buffer.byteLength(content) });
    return doc;
  }

  return {
    read: (ctx: Ctx) => read(ctx.workspaceId),

    /** Full replace; with `ifMatch`, only when the stored version is still that one. */
    async write(ctx: Ctx, input: { content: string; ifMatch?: string | null }): Promise<MemoryDoc> {
      bounded(input.content, "content");
      return store.tx(async () => {
        const current = await read(ctx.workspaceId);
        assertMatches(input.ifMatch, current.version);
        return save(ctx, input.content, "memory.update", { mode: "overwrite" });
      }, oneWriter(ctx));
    },

    /** Appends a note after the spec's separator, in one transaction: concurrent appends all land (unless `ifMatch`). */
    async append(ctx: Ctx, input: { content: string; ifMatch?: string | null }): Promise<MemoryDoc> {
      bounded(input.content, "content");
      // A note of nothing would add a bare separator (REST's schema says the same for its body).
      if (!input.content) throw new InvalidRequestError("content must not be empty: append a note", "content", "INVALID_PARAMETER");
      return store.tx(async () => {
        const current = await read(ctx.workspaceId);
        assertMatches(input.ifMatch, current.version);
        const next = current.content ? current.content + MEMORY_SEPARATOR + input.content : input.content;
        // The note is small enough; the document it would make is not. Not a 413: resending a smaller request
        // does not help, making room does.
        const bytes = Buffer.byteLength(next);
        if (bytes > MEMORY_MAX_BYTES)
          throw new InvalidRequestError(
            `Working memory would grow to ${bytes} bytes, over its ${MEMORY_MAX_BYTES}-byte limit: make room by replacing it with a shorter document (PUT /api/v1/memory, or write-memory with mode overwrite), then append`,
            "content",
            "MEMORY_FULL",
          );
        return save(ctx, next, "memory.append", { mode: "append", noteBytes: Buffer.byteLength(input.content) });
      }, oneWriter(ctx));
    },
  };
}

export type MemoryService = ReturnType<typeof createMemoryService>;
