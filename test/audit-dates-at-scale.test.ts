// The audit log's date filters over thousands of rows whose ids do not follow their dates (a clock set back): the
// answer is the rows the table holds in the range, newest first, paged without a gap or a repeat.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { querySql, runSql } from "./helpers/sql";
import { stopAll } from "./helpers/suite";

const DAYS = 40;
const PER_DAY = 200; // 8,000 rows
const DAY_MS = 86_400_000;

let srv: TestServer;
let api: ReturnType<typeof client>;
let ws: number;
const t0 = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
  api = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("audit-scale") }) });
  ws = Number(String((await api("GET", "/api/v1/workspaces/current")).body.id).replace(/^ws_/, ""));
  // Rows a day apart in blocks, written out of date order (a clock set back): ids do not follow dates.
  await runSql(
    srv,
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${DAYS * PER_DAY - 1})
     INSERT INTO audit_logs (workspace_id, actor_type, request_id, action, resource_type, created_at)
     SELECT ?, 'system', 'req_seed', 'seed.row', 'seed', CAST(? AS BIGINT) + CAST((i * 7) % ${DAYS} AS BIGINT) * ${DAY_MS} + i FROM n`,
    ws,
    t0,
  );
});
afterAll(() => stopAll([srv]));

const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());

/** Every id the API lists under `filter`, following has_more. */
async function listed(filter: string): Promise<number[]> {
  const ids: number[] = [];
  let after = "";
  for (let page = 0; page < 200; page++) {
    const r = await api("GET", `/api/v1/audit-logs?limit=100&resource_type=seed${filter}${after}`);
    expect(r.status).toBe(200);
    ids.push(...r.body.data.map((e: any) => Number(String(e.id).replace(/^[a-z]+_/, ""))));
    if (!r.body.has_more) return ids;
    after = `&after_id=${r.body.last_id}`;
  }
  throw new Error("more pages than rows");
}

async function truth(fromMs: number, toMs: number): Promise<number[]> {
  const rows = await querySql(srv, "SELECT id FROM audit_logs WHERE workspace_id = ? AND resource_type = 'seed' AND created_at BETWEEN ? AND ? ORDER BY id DESC", ws, fromMs, toMs);
  return rows.map((r) => Number(r.id));
}

test("a day, a long range and a range long past: the same rows as the table holds, newest first", async () => {
  const cases = [
    [t0 + 3 * DAY_MS, t0 + 4 * DAY_MS - 1], // one day: 200 rows
    [t0, t0 + 30 * DAY_MS], // 6,000 and more
    [t0 - DAY_MS, t0 + 26 * DAY_MS], // long past its newest rows
  ] as const;
  for (const [from, to] of cases) {
    const expected = await truth(from, to);
    expect(expected.length).toBeGreaterThan(0);
    expect(await listed(`&start_date=${iso(from)}&end_date=${iso(to)}`)).toEqual(expected);
  }
  // Only a start, only an end.
  expect(await listed(`&start_date=${iso(t0 + 35 * DAY_MS)}`)).toEqual(await truth(t0 + 35 * DAY_MS, Number.MAX_SAFE_INTEGER));
  expect(await listed(`&end_date=${iso(t0 + 2 * DAY_MS)}`)).toEqual(await truth(0, t0 + 2 * DAY_MS));
});
