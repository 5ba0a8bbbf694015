// The list tools' paging arguments, the same as the REST query parameters.
import { z } from "zod";

export const pageArgs = {
  limit: z.number().int().min(1).max(100).optional().describe("1–100, default 20"),
  after_id: z.string().max(200).optional().describe("The page after (older than) this id"),
  before_id: z.string().max(200).optional().describe("The page before (newer than) this id"),
};

export const envelope = (page: { rows: { id: string }[]; hasMore: boolean }) => ({
  data: page.rows,
  first_id: page.rows[0]?.id ?? null,
  last_id: page.rows[page.rows.length - 1]?.id ?? null,
  has_more: page.hasMore,
});
