// The list tools' paging arguments, the same as the REST query parameters.
import { z } from "zod";

export const pageArgs = {
  limit: z.number().int().min(1).max(100).optional().describe("1–100, default 20"),
  after_id: z.string().max(200).optional().describe("The page after (older than) this id"),
  before_id: z.string().max(200).optional().describe("The page before (newer than) this id"),
};

/** The same list answer as REST. */
export { listEnvelope as envelope } from "../../lib/page-params";
