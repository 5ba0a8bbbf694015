// GET /api/v1/audit-logs
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { listEnvelope, listSchema, pageQuery, parsePage } from "../../http/pagination";
import { isoDate } from "../../http/schemas";
import { InvalidRequestError } from "../../lib/errors";

const entry = t.Object({
  id: t.String(),
  action: t.String(),
  resourceType: t.String(),
  resourceId: t.Nullable(t.String()),
  actor: t.Object({ type: t.String(), userId: t.Nullable(t.String()), apiKeyId: t.Nullable(t.String()) }),
  ip: t.Nullable(t.String()),
  userAgent: t.Nullable(t.String()),
  requestId: t.String(),
  metadata: t.Record(t.String(), t.Unknown()),
  createdAt: isoDate,
});

/** Whether YYYY-MM-DD names a day that exists: Date.parse rolls 2026-02-30 over to March 2. */
function isCalendarDate(ymd: string): boolean {
  const [y, m, d] = ymd.split("-").map(Number) as [number, number, number];
  const day = new Date(0);
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999 (0001-01-01 is a usual "from the start").
  day.setUTCFullYear(y, m - 1, d);
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/**
 * A date or an ISO 8601 time, as the start of what it names, or for end_date (inclusive) its last millisecond: a
 * day, a minute (…T10:45Z) or a second (…T10:45:07Z) is the whole of it, as a day always was.
 */
function parseTime(raw: string | undefined, param: string, inclusiveEnd: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  // A time without a zone is UTC, as every time this API writes: Date.parse reads it in the server's TZ, so the same
  // filter answered differently on a server started with TZ=Asia/Kolkata.
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(raw);
  const ms = Date.parse(dateOnly ? `${raw}T00:00:00.000Z` : zoned ? raw : `${raw}Z`);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(raw) || !isCalendarDate(raw.slice(0, 10))) throw new InvalidRequestError(`${param} must be an ISO 8601 date or time, got '${raw}'`, param);
  if (!inclusiveEnd) return ms;
  // How much the text names: a day; hours and minutes; with seconds; with a fraction (exact).
  const span = dateOnly ? 86_400_000 : /T\d{2}:\d{2}:\d{2}\.\d/.test(raw) ? 1 : /T\d{2}:\d{2}:\d{2}/.test(raw) ? 1000 : 60_000;
  return ms + span - 1;
}

export const auditLogsRoutes = (app: Platform) =>
  app.get(
    "/api/v1/audit-logs",
    async ({ ctx, deps, query }) => {
      const startMs = parseTime(query.start_date, "start_date", false);
      const endMs = parseTime(query.end_date, "end_date", true);
      if (startMs !== undefined && endMs !== undefined && startMs > endMs) throw new InvalidRequestError("start_date is after end_date", "start_date");
      const page = await deps.services.auditLogs.list(ctx, parsePage(query, "audit"), { action: query.action, resourceType: query.resource_type, startMs, endMs });
      return listEnvelope(page);
    },
    {
      auth: true,
      query: t.Object({
        ...pageQuery,
        action: t.Optional(t.String({ maxLength: 100, description: "e.g. api_key.create" })),
        resource_type: t.Optional(t.String({ maxLength: 100 })),
        start_date: t.Optional(t.String({ maxLength: 40, description: "ISO 8601 date or time, inclusive" })),
        end_date: t.Optional(t.String({ maxLength: 40, description: "ISO 8601 date or time, inclusive: a date, a minute or a second includes all of it" })),
      }),
      response: listSchema(entry),
      detail: { tags: ["Audit logs"], summary: "The workspace's audit trail" },
    },
  );
