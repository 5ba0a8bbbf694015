// Crash soak (bounded): rounds of concurrent idempotent creates (secrets, workspaces) and skill runs against a
// real server process, SIGKILL at a seeded random moment, restart on the same data dir, then: every acknowledged
// write is there (0 lost), replaying every key answers the same and creates nothing new (0 duplicates), every
// run ends (0 stuck), and every created secret and run has exactly its one audit row (no half-written rows).
// Reproduce with SOAK_SEED=<seed>.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";

const SEED = Number(process.env.SOAK_SEED ?? 4242);
const ROUNDS = 4;
const PER_KIND = 8;
const TERMINAL = ["completed", "failed", "cancelled"];

/** mulberry32: a small seeded PRNG, so a failing schedule can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = "secret" | "workspace" | "run";

interface Attempt {
  kind: Kind;
  key: string;
  path: string;
  body: Record<string, unknown>;
  /** The 2xx answer the client received: the write was acknowledged. */
  ack?: { status: number; text: string };
  /** Anything else: refused connection, reset mid-request, or a non-2xx answer. */
  other?: string;
}

let fake: FakeModel;
let srv: TestServer;
let apiKey: string;
const random = rng(SEED);
const attempts: Attempt[] = [];
/** What the crashes hit, for the log: commits the client never heard of, and how interrupted runs ended. */
const seen = { committedUnacknowledged: 0, runEnds: new Map<string, number>() };

const call = () => client(srv, { apiKey });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fail = (msg: string): never => {
  throw new Error(`${msg} (SOAK_SEED=${SEED})`);
};

async function send(a: Attempt): Promise<{ status: number; text: string; replayed: boolean }> {
  const res = await fetch(srv.url + a.path, {
    method: "POST",
    headers: { "x-api-key": apiKey, "content-type": "application/json", "idempotency-key": a.key },
    body: JSON.stringify(a.body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text(), replayed: res.headers.get("idempotency-replayed") === "true" };
}

/** Every page of a list endpoint. */
async function all(path: string): Promise<any[]> {
  const out: any[] = [];
  let after = "";
  for (;;) {
    const sep = path.includes("?") ? "&" : "?";
    const r = await call()("GET", `${path}${sep}limit=100${after ? `&after_id=${after}` : ""}`);
    if (r.status !== 200) fail(`GET ${path} → ${r.status} ${r.text}`);
    out.push(...r.body.data);
    if (!r.body.has_more) return out;
    after = r.body.last_id;
  }
}

function attemptFor(kind: Kind, round: number, i: number): Attempt {
  const tag = `soak-${SEED}-${round}-${kind}-${i}`;
  if (kind === "secret") return { kind, key: tag, path: "/api/v1/secrets", body: { name: `SOAK_${round}_${i}`, value: `value-${tag}` } };
  if (kind === "workspace") return { kind, key: tag, path: "/api/v1/workspaces", body: { name: tag } };
  return { kind, key: tag, path: "/api/v1/skills/summarize/run", body: { input: `Summarize ${tag} [[slow]]` } };
}

/** One round: the creates go out over 500 ms, the kill lands somewhere in 100–450 ms. */
async function round(r: number): Promise<{ killAt: number }> {
  const batch = (["secret", "workspace", "run"] as Kind[]).flatMap((k) => Array.from({ length: PER_KIND }, (_, i) => attemptFor(k, r, i)));
  attempts.push(...batch);
  const killAt = 100 + Math.floor(random() * 350);
  const inflight = batch.map(async (a) => {
    await sleep(Math.floor(random() * 500));
    try {
      const res = await send(a);
      if (res.status >= 200 && res.status < 300) a.ack = { status: res.status, text: res.text };
      else a.other = `answered ${res.status} ${res.text}`;
    } catch (e) {
      a.other = (e as Error).message;
    }
  });
  await sleep(killAt);
  await srv.kill("SIGKILL");
  await Promise.all(inflight);
  await srv.restart();
  return { killAt };
}

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  srv = await startServer({
    env: {
      CLANKER_RATE_LIMIT_PER_MINUTE: "1000000",
      CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "1000000",
      CLANKER_WEBHOOK_ALLOW_PRIVATE: "false",
      CLANKER_CREDIT_GRANT: "100000",
      CLANKER_WORKERS: "2",
      CLANKER_WORKSPACE_CONCURRENCY: "4",
      CLANKER_SMTP_URL: "",
      ANTHROPIC_API_KEY: "sk-ant-soak-0123456789abcdefghijklmnop",
      ANTHROPIC_BASE_URL: fake.url,
      OPENAI_BASE_URL: "",
      OPENAI_API_KEY: "",
    },
  });
  apiKey = await srv.createKey({ email: uniqueEmail("soak") });
}, 30_000);

afterAll(async () => {
  await srv?.stop().catch(() => {});
  if (srv) cleanup(srv);
  fake?.stop();
});

describe(`crash soak: ${ROUNDS} rounds of SIGKILL under concurrent creates and runs`, () => {
  test("0 acknowledged writes lost, 0 duplicates on replay, 0 runs stuck, no half-written rows", async () => {
    const started = Date.now();
    const log: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const { killAt } = await round(r);
      const mine = attempts.filter((a) => a.key.startsWith(`soak-${SEED}-${r}-`));
      log.push(`round ${r}: kill at ${killAt} ms, ${mine.filter((a) => a.ack).length}/${mine.length} acknowledged`);
      await verify(r);
    }
    // The soak means something only if kills landed both before and after acknowledgements.
    expect(attempts.some((a) => a.ack)).toBe(true);
    expect(attempts.some((a) => !a.ack)).toBe(true);
    log.push(`committed but unacknowledged: ${seen.committedUnacknowledged}; runs ended ${JSON.stringify(Object.fromEntries(seen.runEnds))}`);
    console.log(`${log.join("\n")}\ncrash soak took ${Date.now() - started} ms (SOAK_SEED=${SEED})`);
  }, 90_000);
});

async function verify(r: number): Promise<void> {
  const batch = attempts.filter((a) => a.key.startsWith(`soak-${SEED}-${r}-`));
  const ack = (a: Attempt) => JSON.parse(a.ack!.text);

  // 0 lost: each acknowledged create is in the store after the restart.
  const secrets = await all("/api/v1/secrets");
  const workspaces = await all("/api/v1/workspaces");
  for (const a of batch.filter((x) => x.ack)) {
    if (a.kind === "secret" && !secrets.some((s) => s.id === ack(a).id)) fail(`acknowledged secret ${ack(a).id} (${a.key}) is lost`);
    if (a.kind === "workspace" && !workspaces.some((w) => w.id === ack(a).id)) fail(`acknowledged workspace ${ack(a).id} (${a.key}) is lost`);
    if (a.kind === "run") {
      const s = await call()("GET", `/api/v1/executions/${ack(a).executionId}/status`);
      if (s.status !== 200) fail(`acknowledged run ${ack(a).executionId} (${a.key}) is lost: ${s.status}`);
    }
  }

  // No half-written rows, before any replay: each secret and run has exactly one creation audit row and each
  // audit row its resource (a create the client never heard of may have committed; then both are there).
  await auditMatches("secret.create", secrets.map((s) => s.id));
  await auditMatches("execution.create", (await all("/api/v1/executions")).map((e) => e.id ?? e.executionId));

  // Replays: an acknowledged key answers the same status and body, marked replayed. An unacknowledged one
  // either replays (it had committed) or creates now; either way a 2xx, and a second replay matches it.
  for (const a of batch) {
    const first = await send(a);
    if (a.ack) {
      if (first.status !== a.ack.status || first.text !== a.ack.text || !first.replayed)
        fail(`replaying ${a.key}: ${first.status} ${first.text} (replayed: ${first.replayed}), first answer was ${a.ack.status} ${a.ack.text}`);
      continue;
    }
    if (first.status < 200 || first.status >= 300) fail(`retrying unacknowledged ${a.key} (${a.other}): ${first.status} ${first.text}`);
    if (first.replayed) seen.committedUnacknowledged++;
    const again = await send(a);
    if (again.text !== first.text || !again.replayed) fail(`replaying ${a.key} again: ${again.text}, then it was ${first.text}`);
  }

  // 0 duplicates: exactly one resource per key.
  const secretsAfter = await all("/api/v1/secrets");
  const workspacesAfter = await all("/api/v1/workspaces");
  const executions = await all("/api/v1/executions");
  for (const a of batch) {
    const n =
      a.kind === "secret"
        ? secretsAfter.filter((s) => s.name === a.body.name).length
        : a.kind === "workspace"
          ? workspacesAfter.filter((w) => w.name === a.body.name).length
          : executions.filter((e) => e.input === a.body.input).length;
    if (n !== 1) fail(`${a.key} left ${n} ${a.kind}s, not 1`);
  }
  await auditMatches("secret.create", secretsAfter.map((s) => s.id));

  // 0 stuck: every run of this round ends within 20 s of the restart (failed SERVER_RESTARTED, or re-run: both end).
  const deadline = Date.now() + 20_000;
  const ids = executions.filter((e) => batch.some((a) => a.kind === "run" && a.body.input === e.input)).map((e) => e.id ?? e.executionId);
  for (const id of ids) {
    for (;;) {
      const s = await call()("GET", `/api/v1/executions/${id}/status`);
      if (TERMINAL.includes(s.body.status)) {
        const end = `${s.body.status}${s.body.error ? ` ${s.body.error.code}` : ""}`;
        seen.runEnds.set(end, (seen.runEnds.get(end) ?? 0) + 1);
        break;
      }
      if (Date.now() > deadline) fail(`run ${id} is stuck in '${s.body.status}' 20 s after the restart`);
      await sleep(100);
    }
  }
}

/** The audit rows of `action` name exactly these resources, each once. */
async function auditMatches(action: string, resourceIds: string[]): Promise<void> {
  const rows = await all(`/api/v1/audit-logs?action=${action}`);
  const audited = rows.map((r) => r.resourceId as string).sort();
  const existing = [...resourceIds].sort();
  if (JSON.stringify(audited) !== JSON.stringify(existing))
    fail(`${action}: audit rows name ${JSON.stringify(audited)}, the store holds ${JSON.stringify(existing)}`);
}
