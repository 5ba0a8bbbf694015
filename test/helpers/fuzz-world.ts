// The world the fuzz suite works in: two workspaces with one of each resource (so path params can be valid here
// and foreign there), a body each route accepts with real ids (the document's schemas cannot know them), and credentials,
// each route with its own key so a generated id that revokes or rebinds a key only costs that route.
import { finished } from "./api";
import { client, uniqueEmail, type TestServer } from "./server";
import { operationsOf, type Operation } from "./openapi-fuzz";
import type { FuzzWorld } from "./fuzz-arbitraries";

type Call = ReturnType<typeof client>;

async function ok(call: Call, method: string, path: string, body?: unknown): Promise<any> {
  const r = await call(method, path, body === undefined ? {} : { body });
  if (r.status >= 300) throw new Error(`setup ${method} ${path} → ${r.status} ${r.text}`);
  return r.body;
}

/** One workspace's resources, so path params can be valid here and foreign there. */
async function populate(call: Call, tag: string) {
  const ws = (await ok(call, "GET", "/api/v1/workspaces/current")).id as string;
  const secret = (await ok(call, "POST", "/api/v1/secrets", { name: `FUZZ_${tag}`, value: `v-${tag}` })).id as string;
  await ok(call, "POST", "/api/v1/skills/summarize/install");
  const binding = (await ok(call, "POST", "/api/v1/skills/summarize/secrets", { secretId: secret, envVar: `FUZZ_${tag}_TOKEN` })).id as string;
  const exec = (await ok(call, "POST", "/api/v1/skills/summarize/run", { input: `Make a page ${tag} [[file]]` })).executionId as string;
  const status = await finished(call, exec, 20_000);
  const artifact = (status.artifactIds?.[0] ?? status.artifactId) as string;
  if (!artifact) throw new Error(`setup: no artifact from ${JSON.stringify(status)}`);
  const flow = `fuzz-${tag.toLowerCase()}`;
  await ok(call, "POST", "/api/v1/workflows/definitions", {
    id: flow,
    name: `Fuzz ${tag}`,
    steps: [
      { id: "first", kind: "skill", skill: "summarize", input: `Flow ${tag}` },
      { id: "gate", kind: "approval", message: "ok?" },
    ],
    triggers: [{ webhook: {} }],
  });
  const triggers = (await ok(call, "GET", "/api/v1/triggers?limit=100")).data as { id: string; kind: string }[];
  const trigger = triggers.find((t) => t.kind === "webhook")?.id;
  if (!trigger) throw new Error(`setup: no webhook trigger in ${JSON.stringify(triggers)}`);
  const run = (await ok(call, "POST", `/api/v1/workflows/${flow}/launch`, { input: {} })).runId as string;
  const sacrificialKey = (await ok(call, "POST", "/api/v1/api-keys", { name: `revoke me ${tag}` })).id as string;
  return { ws, secret, binding, exec, artifact, flow, run, sacrificialKey, trigger };
}

/** The id each path param names, by the route it belongs to. */
function idFor(path: string, param: string, r: Awaited<ReturnType<typeof populate>>): string {
  if (param === "slug") return "summarize";
  // Names, not workspace objects: the same in every workspace.
  if (param === "integration") return "webhook";
  if (param === "action") return "post";
  if (param === "connector") return "local";
  if (param === "source") return "fuzzsrc";
  if (path.startsWith("/api/v1/workspaces/")) return r.ws;
  if (path.startsWith("/api/v1/api-keys/")) return r.sacrificialKey;
  if (path.startsWith("/api/v1/skills/")) return r.binding;
  if (path.startsWith("/api/v1/secrets/")) return r.secret;
  if (path.startsWith("/api/v1/executions/")) return r.exec;
  if (path.startsWith("/api/v1/artifacts/")) return r.artifact;
  if (path.startsWith("/api/v1/workflows/runs/")) return r.run;
  if (path.startsWith("/api/v1/workflows/")) return r.flow;
  if (path.startsWith("/api/v1/triggers/") || path.startsWith("/hooks/")) return r.trigger;
  throw new Error(`no fixture for {${param}} in ${path}`);
}

const NAMED_PARAMS = new Set(["slug", "integration", "action", "connector", "source"]);

// Destructive routes run last, so the resources and the session they would remove serve every other route first.
const destructive = (op: Operation) => op.method === "DELETE" || /\/(revoke|uninstall|cancel|logout)$/.test(op.path);

export async function buildWorld(srv: TestServer): Promise<{ ops: Operation[]; world: FuzzWorld }> {
  const emailA = uniqueEmail("fuzz-a");
  const [keyA, keyB] = await Promise.all([srv.createKey({ email: emailA }), srv.createKey({ email: uniqueEmail("fuzz-b") })]);
  const [sessionA, logoutSession] = await Promise.all([srv.createSession(emailA), srv.createSession(emailA)]);
  const a = client(srv, { apiKey: keyA });
  const [mine, foreign] = await Promise.all([populate(a, "A"), populate(client(srv, { apiKey: keyB }), "B")]);
  const device = await ok(client(srv), "POST", "/api/v1/activate");
  const agent = await ok(client(srv), "POST", "/agent/auth", { type: "anonymous" });
  const revoked = (await ok(a, "POST", "/api/v1/api-keys", { name: "revoked" })) as { id: string; key: string };
  await ok(a, "POST", `/api/v1/api-keys/${revoked.id}/revoke`);

  const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as Parameters<typeof operationsOf>[0];
  const ops = operationsOf(doc).sort((x, y) => Number(destructive(x)) - Number(destructive(y)) || Number(x.path.endsWith("/logout")) - Number(y.path.endsWith("/logout")));
  // Each route fuzzes with its own key: a generated path id that happens to revoke or rebind a key only costs that route.
  const keys = new Map<string, string>();
  for (const op of ops) keys.set(op.label, (await ok(a, "POST", "/api/v1/api-keys", { name: `fuzz ${op.label}`.slice(0, 100) })).key);

  const seeds: Record<string, Record<string, unknown>> = {
    "PATCH /api/v1/profile": { name: "Fuzz" },
    "POST /api/v1/workspaces": { name: "Fuzz ws" },
    "PUT /api/v1/workspaces/current": { workspace: mine.ws },
    "POST /api/v1/api-keys": { name: "fuzz" },
    "PUT /api/v1/memory": { content: "fuzz memory" },
    "POST /api/v1/memory/append": { content: "more" },
    "POST /api/v1/skills/{slug}/secrets": { secretId: mine.secret, envVar: "FUZZ_ENV" },
    "POST /api/v1/secrets": { name: "FUZZ_NEW", value: "v" },
    "PATCH /api/v1/secrets/{id}": { value: "v2" },
    "PUT /api/v1/byok": { anthropicKey: "sk-ant-fuzz-byok-0123456789" },
    "POST /api/v1/skills/{slug}/run": { input: "Summarize fuzz", callbackUrl: "http://[::ffff:7f00:1]:9/hook" },
    "POST /api/v1/executions/{id}/rerun": { input: "again" },
    "POST /api/v1/auth/email/start": { email: "fuzz@example.test" },
    "POST /api/v1/auth/email/verify": { email: "fuzz@example.test", code: "123456" },
    "POST /api/v1/activate/poll": { code: device.code },
    "POST /api/v1/activate/confirm": { code: device.code },
    "POST /agent/auth": { type: "anonymous" },
    "POST /agent/auth/claim": { claim_token: agent.claim_token, email: "fuzz-claim@example.test" },
    "POST /agent/auth/claim/complete": { claim_token: agent.claim_token, otp: "123456" },
    "POST /api/v1/workspaces/{id}/invitations": { email: "fuzz-invite@example.test", role: "member" },
    "POST /api/v1/invitations/accept": { token: "inv-token" },
    "POST /api/v1/workflows/definitions": { id: "fuzz-new", name: "n", steps: [{ id: "s", kind: "skill", skill: "summarize", input: "x" }] },
    "PUT /api/v1/workflows/definitions/{id}": { id: mine.flow, name: "n", steps: [{ id: "s", kind: "skill", skill: "summarize", input: "x" }] },
    "POST /api/v1/workflows/{id}/launch": { input: {}, callbackUrl: "http://127.0.0.1:9/hook" },
    "POST /api/v1/workflows/{id}/stream": { runId: mine.run, step: "gate", resumeData: {} },
    "POST /api/v1/workflows/runs/{id}/resume": { step: "gate", resumeData: { ok: true } },
    "POST /api/v1/integrations/{integration}/connect": { credentials: { url: "http://127.0.0.1:9/hook" } },
    "POST /api/v1/integrations/{integration}/actions/{action}": { input: { payload: { fuzz: true } } },
    "POST /mcp": { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "fuzz", version: "1" } } },
    "POST /mcp/messages": { jsonrpc: "2.0", id: 1, method: "ping" },
  };
  const session = { "x-auth-token": sessionA };
  const world: FuzzWorld = {
    pathValues: (op) => ({
      valid: Object.fromEntries(op.pathParams.map((p) => [p, idFor(op.path, p, mine)])),
      foreign: Object.fromEntries(op.pathParams.filter((p) => !NAMED_PARAMS.has(p)).map((p) => [p, idFor(op.path, p, foreign)])),
    }),
    seedBody: (op) => seeds[op.label],
    validCred: (op): Record<string, string> => (op.path.endsWith("/logout") ? { "x-auth-token": logoutSession } : { "x-api-key": keys.get(op.label)! }),
    otherCreds: [
      { "x-api-key": keyB },
      { "x-api-key": revoked.key },
      session,
      { ...session, "x-workspace-id": foreign.ws },
      { cookie: `clanker_session=${encodeURIComponent(sessionA)}` },
      { authorization: `Bearer ${keys.get(ops[0]!.label)}` },
      { "x-api-key": "ck_live_0000000000000000000000000000" },
    ],
    workspaces: { mine: mine.ws, foreign: foreign.ws },
  };
  return { ops, world };
}
