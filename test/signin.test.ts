// Signing in people and agents, end to end over real HTTP, run twice: once with CLANKER_SMTP_URL pointing at a
// local SMTP sink (codes read from the sink), once without it (codes read from <dataDir>/outbox/*.eml).
// Covers: mailed-code sign-in (token and HttpOnly cookie, first user owns the server, lockout after 5 wrong
// codes, expired and replayed codes, 5 sends per email), device activation (pending, slow_down, confirm,
// the key exactly once), agent registration (anonymous, email assertion, claims), discovery and the docs the
// server serves, and members and invitations.
//
// Expiry cannot be waited for (codes live 10 minutes): those tests backdate the row's expires_at in the
// server's own SQLite file (<dataDir>/clanker.db), then ask over HTTP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cleanup, client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { freePort, waitUntil } from "./helpers/suite";
import { querySql, runSql } from "./helpers/sql";
import { extractCode, outboxMessages, startMailSink, type MailSink } from "./helpers/mail";

type Call = ReturnType<typeof client>;
type Mode = "smtp" | "outbox";

interface Mail {
  subject: string;
  text: string;
}

function expectError(r: ApiResponse, status: number, code?: string) {
  expect({ status: r.status, code: r.body?.error?.code, text: r.text }).toMatchObject(code === undefined ? { status } : { status, code });
  expect(typeof r.body?.error?.type).toBe("string");
}

const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe.each(["smtp", "outbox"] as Mode[])("sign-in flows, mail via %s", (mode) => {
  let sink: MailSink | null = null;
  let srv: TestServer; // CLANKER_DEVICE_POLL_INTERVAL_SECONDS=0, so the device flow need not wait
  let slow: TestServer; // the default 5 s poll interval, and CLANKER_PUBLIC_URL
  let anon: Call;
  const PUBLIC_URL = "https://clanker.example.test";

  // ---- mail, from wherever this mode delivers it ----
  function mailsTo(to: string): Mail[] {
    return mode === "smtp" ? sink!.to(to) : outboxMessages(srv.dataDir, to);
  }
  /** Runs fn (which should cause one mail to `to`) and returns the new mail, waiting up to 5 s for it. */
  async function mailFrom<T>(to: string, fn: () => Promise<T>): Promise<{ result: T; mail: Mail }> {
    const before = mailsTo(to).length;
    const result = await fn();
    const deadline = Date.now() + 5000;
    for (;;) {
      const all = mailsTo(to);
      if (all.length > before) return { result, mail: all[all.length - 1]! };
      if (Date.now() > deadline) throw new Error(`no new mail to ${to} within 5 s after the request (${JSON.stringify(result)})`);
      await Bun.sleep(25);
    }
  }
  function codeIn(mail: Mail): string {
    const code = extractCode(mail);
    if (!code) throw new Error(`no 6-digit code in mail: ${mail.subject}\n${mail.text}`);
    return code;
  }
  async function startSignin(email: string): Promise<string> {
    const { result, mail } = await mailFrom(email, () => anon("POST", "/api/v1/auth/email/start", { body: { email } }));
    expect(result.status).toBe(200);
    return codeIn(mail);
  }
  async function signIn(email: string): Promise<{ token: string; res: ApiResponse; call: Call }> {
    const code = await startSignin(email);
    const res = await anon("POST", "/api/v1/auth/email/verify", { body: { email, code } });
    expect(res.status).toBe(200);
    return { token: res.body.token, res, call: client(srv, { session: res.body.token }) };
  }

  const ownerEmail = uniqueEmail(`owner-${mode}`);
  let owner: Call;
  let ownerToken: string;
  let ownerWs: string;

  beforeAll(async () => {
    if (mode === "smtp") sink = await startMailSink();
    const mailEnv: Record<string, string> = sink ? { CLANKER_SMTP_URL: sink.url } : {};
    [srv, slow] = await Promise.all([
      startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_DEVICE_POLL_INTERVAL_SECONDS: "0", ...mailEnv } }),
      startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_PUBLIC_URL: PUBLIC_URL, ...mailEnv } }),
    ]);
    anon = client(srv);
  });

  afterAll(async () => {
    await Promise.all([srv?.stop(), slow?.stop()]);
    if (srv) cleanup(srv);
    if (slow) cleanup(slow);
    await sink?.close();
  });

  describe("human sign-in", () => {
    test("code by mail → session token (x-auth-token) and HttpOnly cookie; the first user owns the server", async () => {
      const { result: start, mail } = await mailFrom(ownerEmail, () => anon("POST", "/api/v1/auth/email/start", { body: { email: ownerEmail.toUpperCase() } }));
      expect(start.status).toBe(200);
      expect(start.body).toMatchObject({ sent: true, email: ownerEmail, expires_in: 600 });
      const code = codeIn(mail);
      expect(code).toMatch(/^\d{6}$/);
      expect(mail.text).toContain(code);
      expect(mail.text).toContain(srv.url);

      const v = await anon("POST", "/api/v1/auth/email/verify", { body: { email: ownerEmail, code } });
      expect(v.status).toBe(200);
      expect(v.body.token).toEqual(expect.any(String));
      expect(v.body.user).toMatchObject({ email: ownerEmail, serverOwner: true });
      expect(v.body.user.id).toMatch(/^usr_\d+$/);
      ownerToken = v.body.token;
      owner = client(srv, { session: ownerToken });

      const viaHeader = await owner("GET", "/api/v1/profile");
      expect(viaHeader.status).toBe(200);
      expect(viaHeader.body).toMatchObject({ email: ownerEmail, authMethod: "session", role: "owner" });

      const setCookie = v.headers.get("set-cookie") ?? "";
      const m = /(?:^|,\s*)clanker_session=([^;]+)/.exec(setCookie);
      expect(m).not.toBeNull();
      expect(setCookie).toMatch(/;\s*HttpOnly/i);
      expect(setCookie).toMatch(/;\s*Path=\//i);
      const viaCookie = await anon("GET", "/api/v1/profile", { headers: { cookie: `clanker_session=${m![1]}` } });
      expect(viaCookie.status).toBe(200);
      expect(viaCookie.body.email).toBe(ownerEmail);

      const ws = await owner("GET", "/api/v1/workspaces/current");
      expect(ws.status).toBe(200);
      ownerWs = ws.body.id;
    });

    test("what is not an address (a stray dot, a comment, brackets, an invisible character) is a 400 naming email; one the mail server refuses for good, a 400 EMAIL_REFUSED", async () => {
      // Each of these was mailed to v@… (or refused by the mail server with a 503) as an account of its own.
      for (const email of ["w@example..test", "w@example.test.", "w@.example.test", "w@ex_ample.test", "(1)v@example.test", "v@example.test(1)", "<v@example.test>", ",v@example.test", "w\u200b@example.test", "v@example.test\u0000"]) {
        const r = await anon("POST", "/api/v1/auth/email/start", { body: { email } });
        expect({ email, status: r.status, param: r.body.error?.param }).toEqual({ email, status: 400, param: "email" });
      }
      // Addresses people have, dots anywhere included (Japanese carriers' "taro..yamada@", "hanako.@"), are taken (this
      // mail sink would refuse the dotted ones itself, as a strict mail server may: that is EMAIL_REFUSED, its call).
      if (mode === "outbox")
        for (const email of [`taro..yamada-${Date.now()}@docomo.example`, `hanako.-${Date.now()}@ezweb.example`, `col·lectiu-${Date.now()}@example.cat`])
          expect({ email, status: (await anon("POST", "/api/v1/auth/email/start", { body: { email } })).status }).toEqual({ email, status: 200 });
      if (mode !== "smtp") return;
      const refused = uniqueEmail("refused-smtp");
      const r = await anon("POST", "/api/v1/auth/email/start", { body: { email: refused } });
      expect({ status: r.status, type: r.body.error?.type, code: r.body.error?.code, param: r.body.error?.param }).toEqual({ status: 400, type: "invalid_request_error", code: "EMAIL_REFUSED", param: "email" });
      expect(r.body.error.message).toBe(`The mail server refused ${refused} (SMTP 550): check the address, or use another`);
      // A refusal to relay is the server's mail setup, not the address: the person is not told to fix it.
      const relay = await anon("POST", "/api/v1/auth/email/start", { body: { email: uniqueEmail("relay-smtp") } });
      expect({ status: relay.status, code: relay.body.error?.code }).toEqual({ status: 503, code: "MAIL_FAILED" });
    });

    test("login CSRF: a verify posted by another site (a text/plain form from another local origin, or Sec-Fetch-Site cross-site) is refused, no cookie set, the code still good", async () => {
      const email = uniqueEmail(`csrf-${mode}`);
      const code = await startSignin(email);
      const form = JSON.stringify({ email, code });
      for (const headers of <Record<string, string>[]>[
        // Another page on this host (any local web app on another port) is another site: same hostname passes
        // the DNS-rebinding check, so the sign-in route must refuse it itself.
        { origin: "http://127.0.0.1:9", "content-type": "text/plain" },
        { "sec-fetch-site": "cross-site", "content-type": "text/plain" },
      ]) {
        const res = await fetch(`${srv.url}/api/v1/auth/email/verify`, { method: "POST", headers, body: form });
        expect({ status: res.status, cookie: res.headers.get("set-cookie"), code: ((await res.json()) as any).error?.code }).toEqual({ status: 403, cookie: null, code: "CROSS_SITE" });
      }
      // Our own page's request (same origin) and a client with no browser headers still sign in.
      const own = await fetch(`${srv.url}/api/v1/auth/email/verify`, { method: "POST", headers: { origin: srv.url, "sec-fetch-site": "same-origin", "content-type": "application/json" }, body: form });
      expect(own.status).toBe(200);
      expect(own.headers.get("set-cookie")).toContain("clanker_session=");
    });

    test("mail goes where this mode says: the SMTP sink, or data/outbox/", () => {
      // The outbox: <dataDir>/outbox on SQLite, the shared files table under PostgreSQL (read the same way).
      const files = outboxMessages(srv, ownerEmail);
      if (mode === "smtp") {
        expect(sink!.to(ownerEmail).length).toBeGreaterThan(0);
        expect(files).toEqual([]);
      } else {
        expect(files.length).toBeGreaterThan(0);
      }
    });

    test("one mailbox is one account: an IDN domain in Unicode or xn-- form, an NFC or NFD address, any case", async () => {
      const tag = uniqueEmail(`idn-${mode}`).split("@")[0]!;
      // Typed as `typed`, mailed to the one address it stands for (SMTP carries an IDN domain in its xn-- form).
      const signInAs = async (typed: string, mailbox: string[]) => {
        const mails = () => mailbox.flatMap(mailsTo).length;
        const before = mails();
        expect((await anon("POST", "/api/v1/auth/email/start", { body: { email: typed } })).status).toBe(200);
        await waitUntil("the code's mail", () => mails() > before);
        const code = codeIn(mailbox.flatMap(mailsTo).at(-1)!);
        const r = await anon("POST", "/api/v1/auth/email/verify", { body: { email: typed, code } });
        expect(r.status).toBe(200);
        return r.body.user as { id: string; created: boolean; email: string };
      };
      const idn = [`${tag}@bücher.example`, `${tag}@xn--bcher-kva.example`];
      const first = await signInAs(`${tag}@bücher.example`, idn);
      expect(first).toMatchObject({ created: true, email: `${tag}@bücher.example` });
      for (const same of [`${tag.toUpperCase()}@xn--bcher-kva.example`, `${tag}@BÜCHER.example`, `${tag}@bu\u0308cher.example`])
        expect({ same, ...(await signInAs(same, idn)) }).toMatchObject({ same, created: false, id: first.id });
      const nfc = await signInAs(`ü${tag}@example.com`, [`ü${tag}@example.com`]);
      expect((await signInAs(`u\u0308${tag}@example.com`, [`ü${tag}@example.com`])).id).toBe(nfc.id);
    });

    test("a second person signs in and is not the server owner", async () => {
      const { res } = await signIn(uniqueEmail(`second-${mode}`));
      expect(res.body.user.serverOwner).toBe(false);
      expect(res.body.user.created).toBe(true);
    });

    test("a wrong code 5 times locks: the 5th is 429 rate_limited and then even the right code fails", async () => {
      const email = uniqueEmail(`locked-${mode}`);
      const code = await startSignin(email);
      for (let i = 1; i <= 4; i++) {
        expectError(await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: wrongCode(code) } }), 400, "otp_invalid");
      }
      const fifth = await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: wrongCode(code) } });
      expectError(fifth, 429, "rate_limited");
      const right = await anon("POST", "/api/v1/auth/email/verify", { body: { email, code } });
      expect(right.status).not.toBe(200);
      expectError(right, 429, "rate_limited");
      expect(right.body.token).toBeUndefined();
    });

    test("a code with stray spaces or split in two ('123 456 ', '123-456') is the code, not a wrong try: sign-in and agent claim", async () => {
      const email = uniqueEmail(`spaced-${mode}`);
      const code = await startSignin(email);
      const spaced = await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: ` ${code.slice(0, 3)} ${code.slice(3)}\t` } });
      expect({ status: spaced.status, user: spaced.body.user?.email }).toEqual({ status: 200, user: email });
      const { result: reg, mail } = await mailFrom(email, () => anon("POST", "/agent/auth", { body: { type: "identity_assertion", assertion_type: "email", email } }));
      const otp = codeIn(mail);
      const done = await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: reg.body.claim_token, otp: `${otp.slice(0, 3)}-${otp.slice(3)} ` } });
      expect({ status: done.status, claimed: done.body.status }).toEqual({ status: 200, claimed: "claimed" });
      // Still six digits: letters or a seventh digit are a wrong code.
      const next = await startSignin(email);
      expectError(await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: `${next}0` } }), 400, "otp_invalid");
      expectError(await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: `${next.slice(0, 5)}x` } }), 400, "otp_invalid");
      expect((await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: next } })).status).toBe(200);
    });

    test("a consumed code replayed → otp_invalid", async () => {
      const email = uniqueEmail(`replay-${mode}`);
      const code = await startSignin(email);
      expect((await anon("POST", "/api/v1/auth/email/verify", { body: { email, code } })).status).toBe(200);
      expectError(await anon("POST", "/api/v1/auth/email/verify", { body: { email, code } }), 400, "otp_invalid");
    });

    test("an older code stops working once a new one is sent", async () => {
      const email = uniqueEmail(`older-${mode}`);
      const first = await startSignin(email);
      const second = await startSignin(email);
      if (first !== second) expectError(await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: first } }), 400, "otp_invalid");
      expect((await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: second } })).status).toBe(200);
    });

    test("an expired code → otp_expired (expires_at backdated in the database)", async () => {
      const email = uniqueEmail(`expired-${mode}`);
      const code = await startSignin(email);
      expect(await runSql(srv, "UPDATE otp_codes SET expires_at = ? WHERE email = ? AND purpose = 'signin'", Date.now() - 1000, email)).toBe(1);
      const r = await anon("POST", "/api/v1/auth/email/verify", { body: { email, code } });
      expectError(r, 400, "otp_expired");
    });

    test("more than 5 codes to one email within 15 minutes → 429 rate_limited", async () => {
      const email = uniqueEmail(`flood-${mode}`);
      for (let i = 0; i < 5; i++) expect((await anon("POST", "/api/v1/auth/email/start", { body: { email } })).status).toBe(200);
      const sixth = await anon("POST", "/api/v1/auth/email/start", { body: { email } });
      expectError(sixth, 429, "rate_limited");
      expect(mailsTo(email).length).toBe(5);
      // The budget is the address's, whatever the code is for: an agent claim code for it is refused as well.
      const claim = await anon("POST", "/agent/auth", { body: { type: "identity_assertion", assertion_type: "email", email } });
      expectError(claim, 429, "rate_limited");
      // Its retry-after is when the oldest of the five leaves the 15 minutes, not a minute.
      expect(Number(claim.headers.get("retry-after"))).toBeGreaterThan(14 * 60);
      expect(mailsTo(email).length).toBe(5);
    });

    test("20 starts for one address at once send 5 codes, not 20: the budget is taken with the count", async () => {
      const email = uniqueEmail(`together-${mode}`);
      const answers = await Promise.all(Array.from({ length: 20 }, () => anon("POST", "/api/v1/auth/email/start", { body: { email } })));
      expect(answers.map((a) => a.status).sort()).toEqual([...Array(5).fill(200), ...Array(15).fill(429)]);
      const deadline = Date.now() + 5000;
      while (mailsTo(email).length < 5 && Date.now() < deadline) await Bun.sleep(25);
      await Bun.sleep(100);
      expect(mailsTo(email).length).toBe(5);
      // One of them, the last made valid, signs in (which one arrived last is the mail server's order).
      const statuses: number[] = [];
      for (const m of mailsTo(email)) {
        const r = await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: codeIn(m) } });
        statuses.push(r.status);
        if (r.status === 200) break;
      }
      expect(statuses.at(-1)).toBe(200);
    });

    test.if(mode === "smtp")("a code that could not be mailed replaces none and spends none of the address's budget", async () => {
      const email = uniqueEmail("deferred");
      const mailed = await startSignin(email);
      sink!.deferred.add(email);
      for (let i = 0; i < 5; i++) {
        const failed = await anon("POST", "/api/v1/auth/email/start", { body: { email } });
        expect({ status: failed.status, code: failed.body.error?.code }).toEqual({ status: 503, code: "MAIL_FAILED" });
      }
      // An agent's registration that mailed nothing is not kept either.
      expect((await anon("POST", "/agent/auth", { body: { type: "identity_assertion", assertion_type: "email", email } })).status).toBe(503);
      expect(await querySql(srv, "SELECT id FROM agent_registrations WHERE email = ?", email)).toEqual([]);
      sink!.deferred.delete(email);
      // The code mailed before the failures still signs in, and the failures spent none of the 5 sends.
      expect((await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: mailed } })).status).toBe(200);
      expect((await anon("POST", "/api/v1/auth/email/start", { body: { email } })).status).toBe(200);
    });

    test("an address has 25 wrong tries a day, across codes and purposes: then a right code and a new one are refused too", async () => {
      const email = uniqueEmail(`guesser-${mode}`);
      const wrongTries = async (code: string, n: number) => {
        for (let t = 0; t < n; t++) expect((await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: wrongCode(code) } })).status).toBeGreaterThanOrEqual(400);
      };
      // Codes sent more than 15 minutes ago (backdated) no longer count against the sends, but their wrong tries do.
      const sentLongAgo = () => runSql(srv, "UPDATE otp_codes SET created_at = created_at - 960000 WHERE email = ?", email);
      for (let i = 0; i < 4; i++) {
        await wrongTries(await startSignin(email), 5);
        await sentLongAgo();
      }
      await wrongTries(await startSignin(email), 4);
      await sentLongAgo();
      // 24 spent. A fresh code's first wrong try is the 25th.
      const last = await startSignin(email);
      expectError(await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: wrongCode(last) } }), 400, "otp_invalid");
      const right = await anon("POST", "/api/v1/auth/email/verify", { body: { email, code: last } });
      expectError(right, 429, "rate_limited");
      // What to do meanwhile: a person locked out by someone guessing is not left with "try again later".
      expect(right.body.error.message).toContain(`clanker sessions create --email ${email}`);
      // When the oldest wrong try leaves the day: that code was backdated by 5 × 16 minutes.
      expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(24 * 3600 - 5 * 960 - 60);
      expectError(await anon("POST", "/api/v1/auth/email/start", { body: { email } }), 429, "rate_limited");
      expectError(await anon("POST", "/agent/auth", { body: { type: "identity_assertion", assertion_type: "email", email } }), 429, "rate_limited");
    });
  });

  describe("device activation", () => {
    test("activate → pending → confirm (session) → completed with a working key, once; then code_used", async () => {
      const start = await anon("POST", "/api/v1/activate");
      expect(start.status).toBe(200);
      expect(start.body.code).toMatch(/^[A-Z]{4}-\d{4}$/);
      expect(start.body.verification_url).toBe(`${srv.url}/activate`);
      expect(start.body.verification_url.endsWith("/activate")).toBe(true);
      expect(start.body.expires_in).toBe(300);
      const code: string = start.body.code;

      const pending = await anon("POST", "/api/v1/activate/poll", { body: { code } });
      expect(pending.status).toBe(200);
      expect(pending.body).toEqual({ status: "pending" });

      // An API key cannot approve: only a signed-in person.
      const made = await owner("POST", "/api/v1/api-keys", { body: { name: `device-${mode}` } });
      expect(made.status).toBe(200);
      const withKey = client(srv, { apiKey: made.body.key });
      expectError(await withKey("POST", "/api/v1/activate/confirm", { body: { code } }), 403);
      const stillPending = await anon("POST", "/api/v1/activate/poll", { body: { code } });
      expect(stillPending.body).toEqual({ status: "pending" });

      // No credentials at all: 401.
      expectError(await anon("POST", "/api/v1/activate/confirm", { body: { code } }), 401);

      const ok = await owner("POST", "/api/v1/activate/confirm", { body: { code } });
      expect(ok.status).toBe(200);
      expect(ok.body.status).toBe("approved");

      const done = await anon("POST", "/api/v1/activate/poll", { body: { code }, headers: { "x-request-id": `device-poll-${mode}`, "user-agent": "device-cli/1.0" } });
      expect(done.status).toBe(200);
      expect(done.body.status).toBe("completed");
      // The key's audit row names the poll that received it, as every audit row names its request.
      const minted = (await owner("GET", "/api/v1/audit-logs?limit=100&action=api_key.create")).body.data.find((a: any) => a.requestId === `device-poll-${mode}`);
      expect(minted).toMatchObject({ ip: expect.stringMatching(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/), userAgent: "device-cli/1.0", metadata: { via: "device_activation" } });
      expect(done.body.api_key).toMatch(/^ck_/);
      expect(done.body.tier).toEqual(expect.any(String));
      expect(done.body.tier.length).toBeGreaterThan(0);

      const me = await client(srv, { apiKey: done.body.api_key })("GET", "/api/v1/profile");
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ email: ownerEmail, workspaceId: ownerWs, authMethod: "api_key" });

      // Never again.
      const again = await anon("POST", "/api/v1/activate/poll", { body: { code } });
      expectError(again, 400, "code_used");
      expect(again.body.api_key).toBeUndefined();
    });

    test("a person denies a code they did not start: the device's poll hears access_denied and no key is made", async () => {
      const started = await anon("POST", "/api/v1/activate", { body: {} });
      expect(started.status).toBe(200);
      const code: string = started.body.code;
      // Not with an API key: a person at /activate decides.
      const key = await srv.createKey({ email: uniqueEmail(`deny-key-${mode}`) });
      expectError(await client(srv, { apiKey: key })("POST", "/api/v1/activate/deny", { body: { code } }), 403, "SESSION_REQUIRED");
      const denied = await owner("POST", "/api/v1/activate/deny", { body: { code } });
      expect({ status: denied.status, body: denied.body }).toEqual({ status: 200, body: { status: "denied" } });
      expectError(await anon("POST", "/api/v1/activate/poll", { body: { code } }), 400, "access_denied");
      // Decided once: neither an approval nor a second denial changes it.
      expectError(await owner("POST", "/api/v1/activate/confirm", { body: { code } }), 400, "code_used");
      expectError(await owner("POST", "/api/v1/activate/deny", { body: { code } }), 400, "code_used");
      expect((await owner("GET", "/api/v1/audit-logs?action=device.deny")).body.data.length).toBeGreaterThanOrEqual(1);
    });

    test("an unknown code → 400 invalid_code", async () => {
      expectError(await anon("POST", "/api/v1/activate/poll", { body: { code: "AAAA-0000" } }), 400, "invalid_code");
      expectError(await owner("POST", "/api/v1/activate/confirm", { body: { code: "AAAA-0000" } }), 400, "invalid_code");
    });

    test("an expired code → 400 expired_token (expires_at backdated in the database)", async () => {
      const start = await anon("POST", "/api/v1/activate");
      expect(start.status).toBe(200);
      expect(await runSql(srv, "UPDATE device_codes SET expires_at = ? WHERE status = 'pending' AND expires_at > ?", Date.now() - 1000, Date.now())).toBe(1);
      expectError(await anon("POST", "/api/v1/activate/poll", { body: { code: start.body.code } }), 400, "expired_token");
      expectError(await owner("POST", "/api/v1/activate/confirm", { body: { code: start.body.code } }), 400, "expired_token");
    });

    test("polling again at once (default 5 s interval) → 429 slow_down", async () => {
      const s = client(slow);
      const start = await s("POST", "/api/v1/activate");
      expect(start.status).toBe(200);
      expect(start.body.code).toMatch(/^[A-Z]{4}-\d{4}$/);
      expect(start.body.expires_in).toBe(300);
      expect(start.body.verification_url).toBe(`${PUBLIC_URL}/activate`);
      expect((await s("POST", "/api/v1/activate/poll", { body: { code: start.body.code } })).body).toEqual({ status: "pending" });
      const fast = await s("POST", "/api/v1/activate/poll", { body: { code: start.body.code } });
      expectError(fast, 429, "slow_down");
    });

    test("a poll that arrives a little early (timer and network jitter) is not too fast; one 3 s after the last is", async () => {
      const s = client(slow);
      const start = await s("POST", "/api/v1/activate");
      const poll = () => s("POST", "/api/v1/activate/poll", { body: { code: start.body.code } });
      expect((await poll()).body).toEqual({ status: "pending" });
      // The last poll moved into the past, as if the client had waited (this test's code is the newest row).
      const lastPollAt = (msAgo: number) => runSql(slow, "UPDATE device_codes SET last_polled_at = ? WHERE id = (SELECT MAX(id) FROM device_codes)", Date.now() - msAgo);
      expect(await lastPollAt(4300)).toBe(1);
      expect((await poll()).body).toEqual({ status: "pending" });
      expect(await lastPollAt(3000)).toBe(1);
      const early = await poll();
      expectError(early, 429, "slow_down");
      expect(early.headers.get("retry-after")).toBe("5");
    });
  });

  describe("agent registration", () => {
    test("anonymous: a working ck_ credential at once, tier anonymous, rate limit 20, balance 5", async () => {
      const r = await anon("POST", "/agent/auth", { body: { type: "anonymous" } });
      expect(r.status).toBe(200);
      expect(r.body.credential).toMatch(/^ck_/);
      expect(r.body.claim_token).toEqual(expect.any(String));
      expect(r.body.registration_id).toEqual(expect.any(String));
      expect(Number.isNaN(Date.parse(r.body.claim_token_expires))).toBe(false);
      expect(r.body.tier).toBe("anonymous");
      const agent = client(srv, { apiKey: r.body.credential });
      const me = await agent("GET", "/api/v1/profile");
      expect(me.status).toBe(200);
      expect(me.headers.get("x-ratelimit-limit")).toBe("20");
      const bal = await agent("GET", "/api/v1/billing/balance");
      expect(bal.status).toBe(200);
      expect(bal.body).toMatchObject({ balance: 5, tier: "anonymous" });
    });

    for (const variant of [
      { assertion_type: "email", field: "email" },
      { assertion_type: "verified_email", field: "assertion" },
    ] as const) {
      test(`identity_assertion (${variant.assertion_type}, address in ${variant.field}): pending, no key until the mailed code`, async () => {
        const email = uniqueEmail(`agent-${variant.assertion_type}-${mode}`);
        const { result: r, mail } = await mailFrom(email, () =>
          anon("POST", "/agent/auth", { body: { type: "identity_assertion", assertion_type: variant.assertion_type, [variant.field]: email } }),
        );
        expect(r.status).toBe(200);
        expect(r.body.status).toBe("pending");
        expect(r.body.credential).toBeUndefined();
        expect(r.text).not.toMatch(/ck_/);
        expect(r.body.claim_token).toEqual(expect.any(String));
        expect(r.body.claim_uri).toEqual(expect.stringContaining(srv.url));
        const code = codeIn(mail);

        const done = await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: r.body.claim_token, otp: code } });
        expect(done.status).toBe(200);
        expect(done.body.status).toBe("claimed");
        expect(done.body.credential).toMatch(/^ck_/);

        const me = await client(srv, { apiKey: done.body.credential })("GET", "/api/v1/profile");
        expect(me.status).toBe(200);
        expect(me.body.email).toBe(email);
        // Bound to that person's personal workspace.
        const person = await signIn(email);
        const ws = await person.call("GET", "/api/v1/workspaces/current");
        expect(ws.status).toBe(200);
        expect(ws.body.personal).toBe(true);
        expect(me.body.workspaceId).toBe(ws.body.id);
        expect(me.body.role).toBe("owner");

        // The code is spent and the token claimed.
        expectError(await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: r.body.claim_token, otp: code } }), 409, "previously_claimed");
      });
    }

    test("two agents registered for one address: each one's code claims it (the second mailed replaces none of the first's)", async () => {
      const email = uniqueEmail(`two-agents-${mode}`);
      const register = () => mailFrom(email, () => anon("POST", "/agent/auth", { body: { type: "identity_assertion", assertion_type: "email", email } }));
      const [a, b] = [await register(), await register()];
      const [codeA, codeB] = [codeIn(a.mail), codeIn(b.mail)];
      // One agent's code does not claim the other (unless the two codes happen to be the same six digits).
      if (codeA !== codeB) expectError(await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: a.result.body.claim_token, otp: codeB } }), 400, "otp_invalid");
      for (const [reg, code] of [[a.result, codeA], [b.result, codeB]] as const) {
        const done = await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: reg.body.claim_token, otp: code } });
        expect({ status: done.status, claimed: done.body.status }).toEqual({ status: 200, claimed: "claimed" });
      }
    });

    test("identity_assertion for a person also in someone else's (older) personal workspace: the key is for their own, the only one personal to them", async () => {
      const email = uniqueEmail(`agent-member-${mode}`);
      const person = await signIn(email);
      const own = (await person.call("GET", "/api/v1/workspaces/current")).body.id;
      const { result: inv, mail: invMail } = await mailFrom(email, () => owner("POST", `/api/v1/workspaces/${ownerWs}/invitations`, { body: { email, role: "admin" } }));
      expect(inv.status).toBe(200);
      const token = /\binv_[A-Za-z0-9_-]+/.exec(invMail.text)![0];
      expect((await person.call("POST", "/api/v1/invitations/accept", { body: { token } })).body).toMatchObject({ id: ownerWs, role: "admin" });
      const { result: r, mail } = await mailFrom(email, () => anon("POST", "/agent/auth", { body: { type: "identity_assertion", assertion_type: "email", email } }));
      const done = await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: r.body.claim_token, otp: codeIn(mail) } });
      expect({ status: done.status, workspace: done.body.workspace_id }).toEqual({ status: 200, workspace: own });
      const list = (await person.call("GET", "/api/v1/workspaces?limit=100")).body.data;
      expect(list.map((w: any) => [w.id, w.personal]).sort()).toEqual([[own, true], [ownerWs, false]].sort());
    });

    test("anonymous claim: mailed code, wrong → otp_invalid, right → claimed; the same key now acts for that person", async () => {
      const reg = await anon("POST", "/agent/auth", { body: { type: "anonymous" }, headers: { "x-request-id": `agent-register-${mode}`, "user-agent": "agent/1.0" } });
      expect(reg.status).toBe(200);
      const token: string = reg.body.claim_token;
      const agent = client(srv, { apiKey: reg.body.credential });
      const before = await agent("GET", "/api/v1/profile");
      expect(before.status).toBe(200);
      expect(before.body.email).toBeNull();
      expect((await agent("POST", "/api/v1/memory/append", { body: { content: "the agent's note" } })).status).toBe(200);

      const email = uniqueEmail(`claimer-${mode}`);
      const { result: claim, mail } = await mailFrom(email, () => anon("POST", "/agent/auth/claim", { body: { claim_token: token, email } }));
      expect(claim.status).toBe(200);
      const code = codeIn(mail);

      const wrong = await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: token, otp: wrongCode(code) } });
      expectError(wrong, 400, "otp_invalid");
      // Named as the request names it.
      expect(wrong.body.error.param).toBe("otp");
      const ok = await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: token, otp: code }, headers: { "x-request-id": `agent-claim-${mode}`, "user-agent": "claimer/2.0" } });
      expect(ok.status).toBe(200);
      expect(ok.body.status).toBe("claimed");

      const after = await agent("GET", "/api/v1/profile");
      expect(after.status).toBe(200);
      expect(after.body.email).toBe(email);
      expect(after.body.id).toBe(ok.body.user_id);
      // It works where it worked, with what it made there; the workspace is now the person's.
      expect(after.body.workspaceId).toBe(before.body.workspaceId);
      expect(ok.body.workspace_id).toBe(before.body.workspaceId);
      expect((await agent("GET", "/api/v1/memory")).body.content).toBe("the agent's note");
      const person = await signIn(email);
      const theirs = (await person.call("GET", "/api/v1/workspaces")).body.data;
      expect(theirs.find((w: { id: string }) => w.id === before.body.workspaceId)).toMatchObject({ role: "owner" });
      // Its audit rows name the requests that registered and claimed it, as every audit row names its request.
      const audit = (await client(srv, { session: person.token, workspace: before.body.workspaceId })("GET", "/api/v1/audit-logs?limit=100")).body.data;
      const loopback = expect.stringMatching(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
      expect(audit.find((a: any) => a.action === "agent.register")).toMatchObject({ requestId: `agent-register-${mode}`, userAgent: "agent/1.0", ip: loopback });
      expect(audit.find((a: any) => a.action === "agent.claim")).toMatchObject({ requestId: `agent-claim-${mode}`, userAgent: "claimer/2.0", ip: loopback });

      expectError(await anon("POST", "/agent/auth/claim", { body: { claim_token: token, email } }), 409, "previously_claimed");
      expectError(await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: token, otp: code } }), 409, "previously_claimed");
    });

    test("an unknown claim token → 400 claim_invalid", async () => {
      expectError(await anon("POST", "/agent/auth/claim", { body: { claim_token: "clk_claim_nope", email: uniqueEmail("x") } }), 400, "claim_invalid");
      expectError(await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: "clk_claim_nope", otp: "123456" } }), 400, "claim_invalid");
    });

    test("an expired claim token → 400 claim_expired (claim_expires_at backdated in the database)", async () => {
      const reg = await anon("POST", "/agent/auth", { body: { type: "anonymous" } });
      expect(reg.status).toBe(200);
      expect(await runSql(srv, "UPDATE agent_registrations SET claim_expires_at = ? WHERE status = 'active' AND claim_expires_at > ?", Date.now() - 1000, Date.now())).toBeGreaterThan(0);
      expectError(await anon("POST", "/agent/auth/claim", { body: { claim_token: reg.body.claim_token, email: uniqueEmail("late") } }), 400, "claim_expired");
    });
  });

  describe("discovery and docs", () => {
    test("every 401 carries WWW-Authenticate: Bearer resource_metadata=…/.well-known/oauth-protected-resource (and error=invalid_token for a key that does not work)", async () => {
      const want = `Bearer resource_metadata="${srv.url}/.well-known/oauth-protected-resource"`;
      // A key that does not work is named as the problem (RFC 6750 §3.1); no key, or a session, is not a token.
      for (const headers of [{ "x-api-key": "ck_not_a_real_key" }, { authorization: "Bearer ck_not_a_real_key" }] as Record<string, string>[]) {
        const r = await anon("GET", "/api/v1/profile", { headers });
        expect(r.status).toBe(401);
        expect(r.headers.get("www-authenticate")).toBe(`${want}, error="invalid_token"`);
      }
      const cases: ApiResponse[] = [
        await anon("GET", "/api/v1/profile"),
        await client(srv, { session: "not-a-session" })("GET", "/api/v1/workspaces/current"),
        await anon("GET", "/api/v1/profile", { headers: { cookie: "clanker_session=bogus" } }),
        await anon("POST", "/api/v1/activate/confirm", { body: { code: "AAAA-0000" } }),
        await anon("POST", "/api/v1/api-keys", { body: { name: "x" } }),
      ];
      for (const r of cases) {
        expect(r.status).toBe(401);
        expect(r.headers.get("www-authenticate")).toBe(want);
      }
      const pub = await client(slow)("GET", "/api/v1/profile");
      expect(pub.status).toBe(401);
      expect(pub.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource"`);
    });

    test("both /.well-known documents list the register and claim URIs", async () => {
      for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-authorization-server"]) {
        const r = await anon("GET", path);
        expect(r.status).toBe(200);
        expect({ path, register: r.text.includes(`"${srv.url}/agent/auth"`) }).toEqual({ path, register: true });
        expect({ path, claim: r.text.includes(`"${srv.url}/agent/auth/claim"`) }).toEqual({ path, claim: true });
      }
      const as = await anon("GET", "/.well-known/oauth-authorization-server");
      expect(as.body.agent_auth).toMatchObject({ register_uri: `${srv.url}/agent/auth`, claim_uri: `${srv.url}/agent/auth/claim` });
    });

    test("/skill.md and /auth.md use this server's URL, never https://clanker.net", async () => {
      for (const path of ["/skill.md", "/auth.md"]) {
        const r = await anon("GET", path);
        expect(r.status).toBe(200);
        expect(r.text).toContain(srv.url);
        expect(r.text).not.toContain("https://clanker.net");
        expect(r.text).not.toContain("{{BASE_URL}}");
      }
      // The poll interval is this server's (CLANKER_DEVICE_POLL_INTERVAL_SECONDS=0 here; 5 by default), as POST /activate says.
      expect((await anon("GET", "/auth.md")).text).toContain(`"interval": 0 }`);
      expect((await client(slow)("GET", "/auth.md")).text).toContain(`"interval": 5 }`);
    });

    test("with CLANKER_PUBLIC_URL the docs use that URL instead", async () => {
      for (const path of ["/skill.md", "/auth.md"]) {
        const r = await client(slow)("GET", path);
        expect(r.status).toBe(200);
        expect(r.text).toContain(PUBLIC_URL);
        expect(r.text).not.toContain(slow.url);
        expect(r.text).not.toContain("https://clanker.net");
      }
    });
  });

  describe("members and invitations", () => {
    const inviteeEmail = uniqueEmail(`invitee-${mode}`);
    let inviteToken: string;
    let member: Call;
    let ownerKeyId: string;
    let ownerKey: string;

    test("the owner invites by email; the mail carries a token", async () => {
      const { result: r, mail } = await mailFrom(inviteeEmail, () => owner("POST", `/api/v1/workspaces/${ownerWs}/invitations`, { body: { email: inviteeEmail, role: "member" } }));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ email: inviteeEmail, role: "member", status: "pending", workspaceId: ownerWs });
      const m = /\binv_[A-Za-z0-9_-]+/.exec(mail.text);
      expect(m).not.toBeNull();
      inviteToken = m![0];
    });

    test("accepting as another address → 403; as the invitee → member, listed with role member", async () => {
      const other = await signIn(uniqueEmail(`intruder-${mode}`));
      expectError(await other.call("POST", "/api/v1/invitations/accept", { body: { token: inviteToken } }), 403);

      const invitee = await signIn(inviteeEmail);
      const acc = await invitee.call("POST", "/api/v1/invitations/accept", { body: { token: inviteToken } });
      expect(acc.status).toBe(200);
      expect(acc.body).toMatchObject({ id: ownerWs, role: "member" });
      member = client(srv, { session: invitee.token, workspace: ownerWs });

      const list = await owner("GET", `/api/v1/workspaces/${ownerWs}/members`);
      expect(list.status).toBe(200);
      const row = list.body.data.find((m: { email: string }) => m.email === inviteeEmail);
      expect(row).toMatchObject({ email: inviteeEmail, role: "member" });
      expect(list.body.data.find((m: { email: string }) => m.email === ownerEmail)).toMatchObject({ role: "owner" });

      // The intruder did not get in, and the token is spent (the invitee asking again hears their membership).
      expect(list.body.data.some((m: { email: string }) => m.email === other.res.body.user.email)).toBe(false);
      expectError(await other.call("POST", "/api/v1/invitations/accept", { body: { token: inviteToken } }), 409, "INVITATION_USED");
      expect((await invitee.call("POST", "/api/v1/invitations/accept", { body: { token: inviteToken } })).body).toEqual(acc.body);
    });

    test("a member cannot revoke the owner's key, create secrets or set BYOK (403), but can run skills and read", async () => {
      const made = await owner("POST", "/api/v1/api-keys", { body: { name: `owner-key-${mode}` } });
      expect(made.status).toBe(200);
      ownerKeyId = made.body.id;
      ownerKey = made.body.key;

      const me = await member("GET", "/api/v1/profile");
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ email: inviteeEmail, workspaceId: ownerWs, role: "member" });

      expectError(await member("POST", `/api/v1/api-keys/${ownerKeyId}/revoke`), 403, "ROLE_REQUIRED");
      const stillWorks = await client(srv, { apiKey: ownerKey })("GET", "/api/v1/profile");
      expect(stillWorks.status).toBe(200);
      expect(stillWorks.body.email).toBe(ownerEmail);

      expectError(await member("POST", "/api/v1/secrets", { body: { name: `MEMBER_SECRET_${mode.toUpperCase()}`, value: "s3cret" } }), 403);
      expectError(await member("PUT", "/api/v1/byok", { body: { anthropicKey: "sk-ant-member-should-not-set-this" } }), 403);
      expect((await owner("GET", "/api/v1/byok")).body.configured).toBe(false);
      const secrets = await owner("GET", "/api/v1/secrets");
      expect(secrets.status).toBe(200);
      expect(secrets.body.data.some((s: { name: string }) => s.name.startsWith("MEMBER_SECRET"))).toBe(false);

      const skills = await member("GET", "/api/v1/skills");
      expect(skills.status).toBe(200);
      expect(Array.isArray(skills.body.data)).toBe(true);
      const members = await member("GET", `/api/v1/workspaces/${ownerWs}/members`);
      expect(members.status).toBe(200);
      expect(members.body.data.length).toBeGreaterThanOrEqual(2);
      expect((await member("GET", "/api/v1/api-keys")).status).toBe(200);
    });

    test("audit rows: invitation.create and member.add", async () => {
      const inv = await owner("GET", "/api/v1/audit-logs?limit=100&action=invitation.create");
      expect(inv.status).toBe(200);
      expect(inv.body.data.some((e: any) => e.action === "invitation.create" && JSON.stringify(e.metadata).includes(inviteeEmail))).toBe(true);
      const add = await owner("GET", "/api/v1/audit-logs?limit=100&action=member.add");
      expect(add.status).toBe(200);
      expect(add.body.data.some((e: any) => e.action === "member.add" && JSON.stringify(e.metadata).includes(inviteeEmail))).toBe(true);
    });

    test("a cookie-authenticated POST with a foreign Origin → 403; from this server's own origin it works", async () => {
      const cookie = `clanker_session=${encodeURIComponent(ownerToken)}`;
      const foreign = await anon("POST", "/api/v1/api-keys", { body: { name: "csrf" }, headers: { cookie, origin: "https://evil.example" } });
      expectError(foreign, 403);
      const own = await anon("POST", "/api/v1/api-keys", { body: { name: "same-origin" }, headers: { cookie, origin: srv.url } });
      expect(own.status).toBe(200);
      const keys = await owner("GET", "/api/v1/api-keys?limit=100");
      expect(keys.body.data.some((k: { name: string }) => k.name === "csrf")).toBe(false);
    });
  });
});

describe("mail that cannot go out", () => {
  let down: TestServer; // its SMTP server is a closed port
  let outbox: TestServer;
  beforeAll(async () => {
    [down, outbox] = await Promise.all([startServer({ env: { CLANKER_SMTP_URL: `smtp://127.0.0.1:${await freePort()}` } }), startServer()]);
  }, 30_000);
  afterAll(async () => {
    for (const s of [down, outbox]) {
      await s?.stop();
      if (s) cleanup(s);
    }
  });

  test("is a 503 MAIL_FAILED (retry later) that names no address of the server; an invitation that could not be mailed is withdrawn", async () => {
    const email = uniqueEmail("unmailable");
    const start = await client(down)("POST", "/api/v1/auth/email/start", { body: { email } });
    expect({ status: start.status, code: start.body.error?.code }).toEqual({ status: 503, code: "MAIL_FAILED" });
    expect(start.body.error.message).toBe(`Could not send mail to ${email}: the mail server refused it or could not be reached; the server's log says why. Retry in a minute; if it goes on, the server's operator should check CLANKER_SMTP_URL`);
    expect(start.headers.get("retry-after")).toBe("30");
    expect(down.logs()).toContain(`mail to ${email} could not be sent:`);

    const owner = client(down, { apiKey: await down.createKey({ email: uniqueEmail("down-owner") }) });
    const ws = (await owner("GET", "/api/v1/workspaces/current")).body.id;
    const invited = await owner("POST", `/api/v1/workspaces/${ws}/invitations`, { body: { email, role: "member" } });
    expect({ status: invited.status, code: invited.body.error?.code }).toEqual({ status: 503, code: "MAIL_FAILED" });
    const audit = (await owner("GET", "/api/v1/audit-logs?limit=10")).body.data.map((a: any) => a.action);
    expect(audit.slice(0, 2)).toEqual(["invitation.revoke", "invitation.create"]);
  });

  test("an address as long as the API takes is mailed (the outbox file's name keeps only the start of it)", async () => {
    const email = `${"a".repeat(60)}@${`${"b".repeat(60)}.`.repeat(3)}example.com`;
    expect(email.length).toBeGreaterThan(250);
    const start = await client(outbox)("POST", "/api/v1/auth/email/start", { body: { email } });
    expect(start.status).toBe(200);
    expect(outboxMessages(outbox.dataDir, email)).toHaveLength(1);
  });
});

describe("the local owner clanker made without an address (clanker mcp with no key, keys create with no --email)", () => {
  let srv: TestServer;
  /** Signs `email` in on `on` with the mailed code: the verify's answer. */
  const signInOn = async (on: TestServer, email: string) => {
    expect((await client(on)("POST", "/api/v1/auth/email/start", { body: { email } })).status).toBe(200);
    let code: string | null = null;
    await waitUntil("the sign-in mail", () => (code = outboxMessages(on.dataDir, email).map(extractCode).at(-1) ?? null));
    return client(on)("POST", "/api/v1/auth/email/verify", { body: { email, code } });
  };
  afterAll(async () => {
    await srv?.stop();
    if (srv) cleanup(srv);
  });

  test("on a loopback server, the first person to sign in becomes it, with what its agents made; the next is a user of their own", async () => {
    srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
    const made = await srv.cli(["keys", "create", "--name", "local agent"]);
    expect(made.code).toBe(0);
    const agent = client(srv, { apiKey: made.stdout.trim().split("\n").pop()! });
    expect((await agent("PUT", "/api/v1/memory", { body: { content: "what the local agent wrote" } })).status).toBe(200);
    const signIn = (email: string) => signInOn(srv, email);
    const first = await signIn("first-person@example.com");
    expect(first.body.user).toMatchObject({ email: "first-person@example.com", created: false, serverOwner: true });
    expect((await client(srv, { session: first.body.token })("GET", "/api/v1/memory")).body.content).toBe("what the local agent wrote");
    expect((await agent("GET", "/api/v1/profile")).body.email).toBe("first-person@example.com");
    const second = await signIn("second-person@example.com");
    expect(second.body.user).toMatchObject({ created: true, serverOwner: false });
    expect((await client(srv, { session: second.body.token })("GET", "/api/v1/memory")).body.content).toBe("");
    // Each sign-in is audited where its session acts, as its sign-out is.
    const audit = (await client(srv, { session: first.body.token })("GET", "/api/v1/audit-logs?action=session.create")).body.data;
    expect(audit.map((a: { action: string; actor: unknown }) => a.action)).toEqual(["session.create"]);
  });

  test("once anyone has an address here (the operator's, made by the CLI), or when the first to sign in was invited, nobody takes the local owner over", async () => {
    const other = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
    try {
      const made = await other.cli(["keys", "create", "--name", "local agent"]);
      const agent = client(other, { apiKey: made.stdout.trim().split("\n").pop()! });
      expect((await agent("PUT", "/api/v1/memory", { body: { content: "the operator's local notes" } })).status).toBe(200);
      const signIn = (email: string) => signInOn(other, email);
      // The local owner invites a teammate before anyone signed in: the teammate is a guest, not the owner.
      const ws = (await agent("GET", "/api/v1/workspaces/current")).body.id;
      expect((await agent("POST", `/api/v1/workspaces/${ws}/invitations`, { body: { email: "teammate@example.com", role: "member" } })).status).toBe(200);
      const teammate = await signIn("teammate@example.com");
      expect(teammate.body.user).toMatchObject({ created: true, serverOwner: false });
      expect((await client(other, { session: teammate.body.token })("GET", "/api/v1/memory")).body.content).toBe("");
      // The operator's own account, made by the CLI; then a stranger signs in.
      expect((await other.cli(["keys", "create", "--name", "operator", "--email", "operator@example.com"])).code).toBe(0);
      const stranger = await signIn("stranger@example.com");
      expect(stranger.body.user).toMatchObject({ created: true, serverOwner: false });
      expect((await client(other, { session: stranger.body.token })("GET", "/api/v1/memory")).body.content).toBe("");
      expect((await agent("GET", "/api/v1/profile")).body.email).toBeNull();
    } finally {
      await other.stop();
      cleanup(other);
    }
  });
});
