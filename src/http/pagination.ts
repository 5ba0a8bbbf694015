// Query parameters of every list endpoint, parsed into the store's PageParams.
import { t } from "elysia";

export const pageQuery = {
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, description: "1–100, default 20" })),
  after_id: t.Optional(t.String({ maxLength: 200, description: "Return the page after (older than) this object" })),
  before_id: t.Optional(t.String({ maxLength: 200, description: "Return the page before (newer than) this object" })),
};

export { parsePage, parseKeyPage, listEnvelope, type PageQuery } from "../lib/page-params";

export const listSchema = <S extends import("@sinclair/typebox").TSchema>(item: S) =>
  t.Object({
    data: t.Array(item),
    first_id: t.Nullable(t.String()),
    last_id: t.Nullable(t.String()),
    has_more: t.Boolean(),
  });
