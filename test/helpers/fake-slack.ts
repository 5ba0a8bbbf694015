// A fake Slack Web API on 127.0.0.1 speaking the real wire format (POST /api/<method>, form or JSON bodies, a
// bearer token, HTTP 200 with {ok:false,error} for platform errors, 429 + Retry-After when rate limited, cursor
// pagination in response_metadata.next_cursor), plus the OAuth v2 authorize page and oauth.v2.access, so
// @slack/web-api runs unchanged with slackApiUrl pointed at `${url}/api/`.

export interface FakeSlackMessage {
  channel: string;
  text: string;
  ts: string;
  token: string;
}

export interface FakeSlack {
  url: string;
  /** For CLANKER_SLACK_API_URL. */
  apiUrl: string;
  /** Tokens that auth.test and the other methods accept. */
  tokens: Set<string>;
  messages: FakeSlackMessage[];
  /** Every method called, in order, with the token it carried. */
  calls: { method: string; token: string | null }[];
  channels: { id: string; name: string; is_private: boolean; is_member: boolean }[];
  /** The next `n` calls answer 429 with this Retry-After. */
  rateLimitNext(n: number, retryAfterSeconds?: number): void;
  /** OAuth: the app's credentials, and a code the "user" got by approving (see approve()). */
  clientId: string;
  clientSecret: string;
  /** Simulates the person approving at the authorize URL: the code Slack would redirect back with. */
  approve(authorizeUrl: string): { code: string; state: string; redirectUri: string | null };
  stop(): void;
}

let seq = 0;

export function startFakeSlack(opts: { pageSize?: number; team?: string } = {}): FakeSlack {
  const pageSize = opts.pageSize ?? 2;
  const team = opts.team ?? "Fake Team";
  const tokens = new Set<string>();
  const messages: FakeSlackMessage[] = [];
  const calls: { method: string; token: string | null }[] = [];
  const codes = new Map<string, { token: string; redirectUri: string | null }>();
  let limited = 0;
  let retryAfter = 1;
  const channels = [
    { id: "C001", name: "general", is_private: false, is_member: true },
    { id: "C002", name: "random", is_private: false, is_member: true },
    { id: "C003", name: "deploys", is_private: false, is_member: true },
    { id: "C004", name: "secret-plans", is_private: true, is_member: false },
    { id: "C005", name: "alerts", is_private: false, is_member: true },
  ];
  const clientId = "1234.5678";
  const clientSecret = "fake-slack-client-secret";

  async function params(req: Request): Promise<Record<string, string>> {
    const url = new URL(req.url);
    const out: Record<string, string> = Object.fromEntries(url.searchParams);
    const type = req.headers.get("content-type") ?? "";
    const raw = await req.text();
    if (!raw) return out;
    if (type.includes("application/json")) {
      for (const [k, v] of Object.entries(JSON.parse(raw) as Record<string, unknown>)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
    } else for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
    return out;
  }

  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/oauth/v2/authorize") return new Response("Slack would ask the person here", { status: 200 });
      const m = /^\/api\/([A-Za-z0-9.]+)$/.exec(url.pathname);
      if (!m) return new Response("not found", { status: 404 });
      const method = m[1]!;
      const p = await params(req);
      const bearer = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1] ?? p.token ?? null;
      calls.push({ method, token: bearer });
      if (limited > 0) {
        limited--;
        return json({ ok: false, error: "ratelimited" }, 429, { "retry-after": String(retryAfter) });
      }
      if (method === "oauth.v2.access") {
        // Client credentials in the body or as HTTP Basic, as Slack accepts both.
        const basic = /^Basic (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
        const [id, secret] = basic ? Buffer.from(basic, "base64").toString().split(":") : [p.client_id, p.client_secret];
        if (id !== clientId || secret !== clientSecret) return json({ ok: false, error: "invalid_client_id" });
        const grant = p.code ? codes.get(p.code) : undefined;
        if (!grant) return json({ ok: false, error: "invalid_code" });
        codes.delete(p.code!);
        if (grant.redirectUri !== null && p.redirect_uri !== grant.redirectUri) return json({ ok: false, error: "bad_redirect_uri" });
        tokens.add(grant.token);
        return json({
          ok: true,
          app_id: "A0FAKE",
          authed_user: { id: "U0PERSON" },
          scope: "chat:write,channels:read",
          token_type: "bot",
          access_token: grant.token,
          bot_user_id: "U0BOT",
          team: { id: "T0FAKE", name: team },
          enterprise: null,
          is_enterprise_install: false,
        });
      }
      if (!bearer) return json({ ok: false, error: "not_authed" });
      if (!tokens.has(bearer)) return json({ ok: false, error: "invalid_auth" });
      switch (method) {
        case "auth.test":
          return json({ ok: true, url: "https://fake.slack.test/", team, user: "clanker-bot", team_id: "T0FAKE", user_id: "U0BOT", bot_id: "B0BOT", is_enterprise_install: false });
        case "chat.postMessage": {
          if (!p.channel) return json({ ok: false, error: "channel_not_found" });
          const ch = channels.find((c) => c.id === p.channel || c.name === p.channel!.replace(/^#/, ""));
          if (!ch) return json({ ok: false, error: "channel_not_found" });
          if (!ch.is_member) return json({ ok: false, error: "not_in_channel" });
          if (!p.text) return json({ ok: false, error: "no_text" });
          const ts = `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, "0")}`;
          messages.push({ channel: ch.id, text: p.text, ts, token: bearer });
          // "[[slow:N]]" in the text: posted at once, answered N ms later (a cancel may come meanwhile).
          const slow = /\[\[slow:(\d+)\]\]/.exec(p.text);
          if (slow) await Bun.sleep(Number(slow[1]));
          return json({ ok: true, channel: ch.id, ts, message: { type: "message", subtype: "bot_message", text: p.text, ts, bot_id: "B0BOT", user: "U0BOT" } });
        }
        case "conversations.list": {
          const start = p.cursor ? Number(Buffer.from(p.cursor, "base64").toString().replace(/^next:/, "")) : 0;
          const limit = Math.min(Number(p.limit ?? pageSize) || pageSize, pageSize);
          const types = (p.types ?? "public_channel").split(",");
          const visible = channels.filter((c) => types.includes(c.is_private ? "private_channel" : "public_channel"));
          const page = visible.slice(start, start + limit);
          const next = start + limit < visible.length ? Buffer.from(`next:${start + limit}`).toString("base64") : "";
          return json({
            ok: true,
            channels: page.map((c) => ({ ...c, is_channel: !c.is_private, is_group: false, is_im: false, is_archived: false, created: 1700000000, num_members: 3 })),
            response_metadata: { next_cursor: next },
          });
        }
        default:
          return json({ ok: false, error: "unknown_method" });
      }
    },
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    apiUrl: `${url}/api/`,
    tokens,
    messages,
    calls,
    channels,
    clientId,
    clientSecret,
    rateLimitNext(n, seconds = 1) {
      limited = n;
      retryAfter = seconds;
    },
    approve(authorizeUrl) {
      const u = new URL(authorizeUrl);
      if (u.searchParams.get("client_id") !== clientId) throw new Error(`authorize URL has client_id ${u.searchParams.get("client_id")}`);
      const code = `code-${++seq}-${Math.random().toString(36).slice(2)}`;
      const redirectUri = u.searchParams.get("redirect_uri");
      codes.set(code, { token: `xoxb-oauth-${seq}-${Math.random().toString(36).slice(2)}`, redirectUri });
      return { code, state: u.searchParams.get("state") ?? "", redirectUri };
    },
    stop: () => server.stop(true),
  };
}
