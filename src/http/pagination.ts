// Query parameters of every list endpoint, parsed into the store's PageParams.
import { t } from "elysia";
import { decodeId, type Entity } from "../lib/ids";
import { InvalidRequestError } from "../lib/errors";
import type { Page, PageParams } from "../store/paginate";

export const pageQuery = {
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, description: "1–100, default 20" })),
  after_id: t.Optional(t.String({ maxLength: 200, description: "Return the page after (older than) this object" })),
  before_id: t.Optional(t.String({ maxLength: 200, description: "Return the page before (newer than) this object" })),
};

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

export const listSchema = <S extends import("@sinclair/typebox").TSchema>(item: S) =>
  t.Object({
    data: t.Array(item),
    first_id: t.Nullable(t.String()),
    last_id: t.Nullable(t.String()),
    has_more: t.Boolean(),
  });
