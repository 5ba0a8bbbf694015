// A list's page parameters parsed into the store's PageParams, and the list answer: plain code without Elysia,
// so `clanker mcp` (whose tools page too) does not load the HTTP framework. The query schema: src/http/pagination.ts.
import { decodeId, type Entity } from "./ids";
import { InvalidRequestError } from "./errors";
import type { Page, PageParams } from "../store/paginate";

export interface PageQuery {
  limit?: number;
  after_id?: string;
  before_id?: string;
}

function cursors(q: PageQuery): void {
  if (q.after_id !== undefined && q.before_id !== undefined)
    throw new InvalidRequestError("Pass after_id or before_id, not both", "before_id");
}

export function parsePage(q: PageQuery, entity: Entity): PageParams {
  cursors(q);
  const p: PageParams = { limit: q.limit ?? 20 };
  for (const [param, field] of [["after_id", "afterId"], ["before_id", "beforeId"]] as const) {
    const raw = q[param];
    if (raw === undefined) continue;
    const id = decodeId(entity, raw);
    if (id === null) throw new InvalidRequestError(`${param} '${raw}' is not a valid ${entity} id`, param);
    p[field] = id;
  }
  return p;
}

/** For lists keyed by a string (the marketplace's slugs). */
export function parseKeyPage(q: PageQuery): PageParams<string> {
  cursors(q);
  return { limit: q.limit ?? 20, afterId: q.after_id, beforeId: q.before_id };
}

/** The spec's list answer for a page of API objects. */
export function listEnvelope<T extends { id: string }>(page: Page<T>) {
  const data = page.rows;
  return { data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: page.hasMore };
}
