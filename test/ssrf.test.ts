// SSRF: every spelling of a loopback, link-local, metadata or unspecified address in a callbackUrl is refused at
// request time (400 naming callbackUrl) over real HTTP, and a name that resolves inside is refused at delivery.
// Only loopback receivers run here: forms that could leave the host on a broken build are sent from a workspace
// without credits, so even a build that let them through answers 402 and sends nothing. The guarded fetch
// connects to the address it checked (one lookup), keeps SNI and certificate checks on the name, and never
// follows a redirect. A workflow launch without credits is refused before a run or a webhook exists.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server as HttpsServer } from "node:https";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classifyAddress } from "../src/lib/net";
import { guardedFetch, OutboundRefused } from "../src/lib/outbound";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { startReceiver, stopAll, waitUntil } from "./helpers/suite";
import { finished } from "./helpers/api";

type Call = ReturnType<typeof client>;

let fake: FakeModel;
let srvPriv: TestServer; // CLANKER_WEBHOOK_ALLOW_PRIVATE=false
let srvOpen: TestServer; // private targets allowed (the loopback default)
let privFunded: Call;
let privBroke: Call;
let openFunded: Call;
let openBroke: Call;

interface Hit {
  path: string;
  host: string;
}
const hits: Hit[] = [];
let receiver: ReturnType<typeof Bun.serve>;
let P = 0;
const hitsTo = (path: string) => hits.filter((h) => h.path === path);

function expectError(r: ApiResponse, status: number, type: string, extra: { param?: string; code?: string } = {}) {
  expect({ status: r.status, type: r.body?.error?.type, text: r.text }).toMatchObject({ status, type });
  if (extra.param) expect(r.body.error.param).toBe(extra.param);
  if (extra.code) expect(r.body.error.code).toBe(extra.code);
}

async function runWith(call: Call, callbackUrl: string): Promise<ApiResponse> {
  return call("POST", "/api/v1/skills/summarize/run", { body: { input: `Summarize the tides ${callbackUrl}`, callbackUrl } });
}

async function workspaceKey(srv: TestServer, tag: string, credits: number): Promise<Call> {
  const slug = `${tag}-${process.pid}`;
  const key = await srv.createKey({ email: uniqueEmail(tag), workspace: slug });
  if (credits > 0) {
    const r = await srv.cli(["credits", "grant", "--workspace", slug, "--amount", String(credits)]);
    if (r.code !== 0) throw new Error(`credits grant failed: ${r.stderr}`);
  }
  return client(srv, { apiKey: key });
}

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  receiver = startReceiver(async (req) => {
    const path = new URL(req.url).pathname;
    await req.text();
    hits.push({ path, host: req.headers.get("host") ?? "" });
    if (path === "/redirect") return new Response(null, { status: 302, headers: { location: `http://127.0.0.1:${receiver.port}/landed` } });
    return new Response("ok");
  });
  P = receiver.port!;
  const env = {
    CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
    CLANKER_WORKERS: "1",
    ANTHROPIC_API_KEY: "sk-ant-ssrf-0123456789abcdefghijkl",
    ANTHROPIC_BASE_URL: fake.url,
    OPENAI_BASE_URL: "",
    CLANKER_CREDIT_GRANT: "0",
    CLANKER_WEBHOOK_RETRY_BASE_MS: "100",
    CLANKER_WEBHOOK_MAX_ATTEMPTS: "2",
  };
  [srvPriv, srvOpen] = await Promise.all([startServer({ env: { ...env, CLANKER_WEBHOOK_ALLOW_PRIVATE: "false" } }), startServer({ env })]);
  [privFunded, privBroke, openFunded, openBroke] = await Promise.all([
    workspaceKey(srvPriv, "ssrf-pf", 50),
    workspaceKey(srvPriv, "ssrf-pb", 0),
    workspaceKey(srvOpen, "ssrf-of", 50),
    workspaceKey(srvOpen, "ssrf-ob", 0),
  ]);
}, 60_000);

afterAll(() => stopAll([srvPriv, srvOpen, receiver, fake]));

describe("callbackUrl with private targets disallowed", () => {
  test("hex, mapped and numeric spellings of 127.0.0.1 that connect to the loopback receiver → 400, nothing delivered", async () => {
    // On a build that let these through, the run would complete and the receiver would count the callback.
    const forms = [
      `http://[::ffff:7f00:1]:${P}/m1`,
      `http://[::ffff:127.0.0.1]:${P}/m2`,
      `http://[0:0:0:0:0:ffff:7f00:1]:${P}/m3`,
      `http://[::FFFF:7F00:1]:${P}/m4`,
      `http://2130706433:${P}/m5`,
      `http://0x7f.1:${P}/m6`,
      `http://127.1:${P}/m7`,
      `http://0177.0.0.1:${P}/m8`,
      `http://127.0.0.1.:${P}/m9`,
      `http://[::1]:${P}/m10`,
    ];
    for (const url of forms) expectError(await runWith(privFunded, url), 400, "invalid_request_error", { param: "callbackUrl" });
    expect((await privFunded("GET", "/api/v1/executions")).body.data).toEqual([]);
    await Bun.sleep(300);
    expect(hits.filter((h) => /^\/m\d+$/.test(h.path))).toEqual([]);
  });

  test("compatible, NAT64 and 6to4 embeddings of 127.0.0.1 → 400 (sent from a workspace without credits: nothing can leave)", async () => {
    const forms = [`http://[::7f00:1]:${P}/e1`, `http://[64:ff9b::7f00:1]:${P}/e2`, `http://[2002:7f00:1::]:${P}/e3`, `http://[64:ff9b:1::7f00:1]:${P}/e4`];
    for (const url of forms) expectError(await runWith(privBroke, url), 400, "invalid_request_error", { param: "callbackUrl" });
    // The control: a public-looking name passes the URL check and reaches the credit check.
    expectError(await runWith(privBroke, "http://hooks.example.test/ok"), 402, "billing_error", { code: "INSUFFICIENT_CREDITS" });
    expect((await privBroke("GET", "/api/v1/executions")).body.data).toEqual([]);
  });

  test("a name that resolves to loopback passes the request but is refused at delivery; the receiver sees nothing", async () => {
    const r = await runWith(privFunded, `http://localhost:${P}/via-name`);
    expect(r.status).toBe(200);
    await finished(privFunded, r.body.executionId, 15_000);
    // The log names the origin only (a callback's path is often its token).
    const line = await waitUntil("the refused delivery in the log", () => srvPriv.logs().split("\n").find((l) => l.includes(`http://localhost:${P}/…`) && l.includes("failed for good")), 15_000);
    expect(line).not.toContain("/via-name");
    expect(line).toContain("refused:");
    expect(line).toContain("loopback");
    expect(line).toContain("after 1 attempts"); // a refusal is not retried
    expect(hitsTo("/via-name")).toEqual([]);
  });
});

describe("callbackUrl with private targets allowed", () => {
  test("link-local, metadata, unspecified, multicast and reserved forms → 400 all the same", async () => {
    const forms = [
      "http://[::ffff:a9fe:a9fe]/latest",
      "http://[::a9fe:a9fe]/latest",
      "http://[64:ff9b::a9fe:a9fe]/latest",
      "http://[2002:a9fe:a9fe::]/latest",
      "http://[::ffff:0:0]/",
      "http://[::]/",
      "http://[fe90::1]/",
      "http://[febf::1]/",
      "http://[fd00:ec2::254]/latest",
      "http://0.0.0.0/",
      "http://0/",
      "http://169.254.169.254/latest",
      "http://100.100.100.200/latest",
      "http://[ff02::1]/",
      "http://224.0.0.1/",
      "http://255.255.255.255/",
      "http://240.0.0.1/",
      "http://[2001:db8::1]/",
      "http://metadata.google.internal/computeMetadata/v1/",
    ];
    for (const url of forms) expectError(await runWith(openBroke, url), 400, "invalid_request_error", { param: "callbackUrl" });
    expectError(await runWith(openBroke, `http://127.0.0.1:${P}/fine`), 402, "billing_error", { code: "INSUFFICIENT_CREDITS" });
    expect((await openBroke("GET", "/api/v1/executions")).body.data).toEqual([]);
  });

  test("delivery to a loopback receiver works, by address and by name (Host kept)", async () => {
    const a = await runWith(openFunded, `http://127.0.0.1:${P}/open-ip`);
    const b = await runWith(openFunded, `http://localhost:${P}/open-name`);
    expect([a.status, b.status]).toEqual([200, 200]);
    await waitUntil("both deliveries", () => hitsTo("/open-ip").length === 1 && hitsTo("/open-name").length === 1, 15_000);
    expect(hitsTo("/open-name")[0]!.host).toBe(`localhost:${P}`);
  });

  test("a receiver answering 302 is an answer: the redirect is never followed", async () => {
    const r = await runWith(openFunded, `http://127.0.0.1:${P}/redirect`);
    expect(r.status).toBe(200);
    const line = await waitUntil("the failed delivery in the log", () => srvOpen.logs().split("\n").find((l) => l.includes(`http://127.0.0.1:${P}/…`) && l.includes("failed for good")), 15_000);
    expect(line).toContain("receiver answered 302");
    expect(hitsTo("/redirect").length).toBe(2); // max attempts, each one answered 302
    expect(hitsTo("/landed")).toEqual([]);
  });
});

describe("workflow launch", () => {
  const wf = {
    id: "ssrf-credit-check",
    name: "Credit check",
    input: { required: ["topic"], properties: { topic: { type: "string" } } },
    steps: [{ id: "only", kind: "skill", skill: "summarize", input: "About {{input.topic}}" }],
  };

  test("without credits → 402 INSUFFICIENT_CREDITS on launch and stream; no run row, no webhook", async () => {
    expect((await openBroke("POST", "/api/v1/workflows/definitions", { body: wf })).status).toBe(200);
    const callbackUrl = `http://127.0.0.1:${P}/wf-broke`;
    const launch = await openBroke("POST", `/api/v1/workflows/${wf.id}/launch`, { body: { inputData: { topic: "tides" }, callbackUrl } });
    expectError(launch, 402, "billing_error", { code: "INSUFFICIENT_CREDITS" });
    const stream = await openBroke("POST", `/api/v1/workflows/${wf.id}/stream`, { body: { inputData: { topic: "tides" }, callbackUrl } });
    expectError(stream, 402, "billing_error", { code: "INSUFFICIENT_CREDITS" });
    // Input and callback are checked before credits.
    expectError(await openBroke("POST", `/api/v1/workflows/${wf.id}/launch`, { body: { inputData: {}, callbackUrl } }), 400, "invalid_request_error");
    expectError(await openBroke("POST", `/api/v1/workflows/${wf.id}/launch`, { body: { inputData: { topic: "t" }, callbackUrl: "http://[::a9fe:a9fe]/" } }), 400, "invalid_request_error", { param: "callbackUrl" });
    await Bun.sleep(500);
    expect((await openBroke("GET", "/api/v1/workflows/runs")).body.data).toEqual([]);
    expect(hitsTo("/wf-broke")).toEqual([]);
  });

  test("with credits the same launch runs and calls back", async () => {
    expect((await openFunded("POST", "/api/v1/workflows/definitions", { body: wf })).status).toBe(200);
    const r = await openFunded("POST", `/api/v1/workflows/${wf.id}/launch`, { body: { inputData: { topic: "tides" }, callbackUrl: `http://127.0.0.1:${P}/wf-funded` } });
    expect(r.status).toBe(200);
    await waitUntil("the workflow callback", () => hitsTo("/wf-funded").length === 1, 15_000);
  });
});

describe("guardedFetch", () => {
  test("connects to the address it resolved once, with the original Host", async () => {
    const asked: string[] = [];
    const res = await guardedFetch(`http://rebind.invalid:${P}/pinned`, { method: "POST", body: "{}" }, {
      allowPrivate: true,
      timeoutMs: 5000,
      resolve: async (h) => {
        asked.push(h);
        return ["127.0.0.1"];
      },
    });
    expect(res.status).toBe(200);
    expect(asked).toEqual(["rebind.invalid"]); // a second lookup of .invalid could only fail
    expect(hitsTo("/pinned")).toEqual([{ path: "/pinned", host: `rebind.invalid:${P}` }]);
  });

  test("one bad address among the answers refuses the call; nothing is sent", async () => {
    for (const answers of [["127.0.0.1", "169.254.169.254"], ["127.0.0.1", "::ffff:a9fe:a9fe"], ["127.0.0.1", "fe80::1"]]) {
      await expect(guardedFetch(`http://mixed.invalid:${P}/mixed`, {}, { allowPrivate: true, timeoutMs: 5000, resolve: async () => answers })).rejects.toBeInstanceOf(OutboundRefused);
    }
    await expect(guardedFetch(`http://localhost:${P}/mixed`, {}, { allowPrivate: false, timeoutMs: 5000 })).rejects.toBeInstanceOf(OutboundRefused);
    expect(hitsTo("/mixed")).toEqual([]);
  });

  describe("https to a pinned address", () => {
    let dir: string;
    let tls: HttpsServer;
    let port = 0;
    let cert = "";
    const seen: { sni: string | undefined; host: string | undefined }[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "clanker-ssrf-tls-"));
      const p = Bun.spawnSync(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=hooks.clanker.test", "-addext", "subjectAltName=DNS:hooks.clanker.test", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
        { stdout: "pipe", stderr: "pipe" },
      );
      if (p.exitCode !== 0) throw new Error(`openssl failed: ${p.stderr.toString()}`);
      cert = readFileSync(join(dir, "cert.pem"), "utf8");
      tls = createServer({ key: readFileSync(join(dir, "key.pem"), "utf8"), cert }, (req, res) => {
        seen.push({ sni: (req.socket as unknown as { servername?: string }).servername, host: req.headers.host });
        res.end("ok");
      });
      await new Promise<void>((r) => tls.listen(0, "127.0.0.1", r));
      port = (tls.address() as { port: number }).port;
    });

    afterAll(() => {
      tls?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test("SNI and the certificate check use the URL's name, not the address", async () => {
      const policy = { allowPrivate: true, timeoutMs: 5000, ca: cert, resolve: async () => ["127.0.0.1"] };
      const res = await guardedFetch(`https://hooks.clanker.test:${port}/tls`, { method: "POST", body: "{}" }, policy);
      expect(res.status).toBe(200);
      expect(seen).toEqual([{ sni: "hooks.clanker.test", host: `hooks.clanker.test:${port}` }]);
      // A name the certificate does not cover fails verification, even though the address is the same.
      const wrong = await guardedFetch(`https://other.clanker.test:${port}/tls`, {}, policy).then(
        () => null,
        (e: Error) => e,
      );
      expect(wrong).toBeInstanceOf(Error);
      expect(wrong).not.toBeInstanceOf(OutboundRefused);
      expect(String((wrong as { code?: string }).code)).toContain("ALTNAME");
      expect(seen.length).toBe(1);
    });
  });
});

describe("classifyAddress", () => {
  const cases: [string, string][] = [
    ["8.8.8.8", "public"],
    ["2606:4700:4700::1111", "public"],
    ["127.0.0.1", "private"],
    ["10.1.2.3", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["100.64.0.1", "private"],
    ["::1", "private"],
    ["fc00::1", "private"],
    ["fdff::1", "private"],
    ["::ffff:7f00:1", "private"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:0:7f00:1", "private"],
    ["::7f00:1", "private"],
    ["64:ff9b::7f00:1", "private"],
    ["2002:7f00:1::", "private"],
    ["::ffff:8.8.8.8", "public"],
    ["64:ff9b::808:808", "public"],
    ["2002:808:808::1", "public"],
    ["169.254.169.254", "forbidden"],
    ["::ffff:a9fe:a9fe", "forbidden"],
    ["::a9fe:a9fe", "forbidden"],
    ["2002:a9fe:a9fe::", "forbidden"],
    ["::ffff:0:0", "forbidden"],
    ["::", "forbidden"],
    ["0.0.0.0", "forbidden"],
    ["0.1.2.3", "forbidden"],
    ["fe80::1", "forbidden"],
    ["fe90::1", "forbidden"],
    ["febf:ffff::1", "forbidden"],
    ["fd00:ec2::254", "forbidden"],
    ["fd00:ec2:0:0::254", "forbidden"],
    ["100.100.100.200", "forbidden"],
    ["224.0.0.251", "forbidden"],
    ["ff02::1", "forbidden"],
    ["255.255.255.255", "forbidden"],
    ["240.1.2.3", "forbidden"],
    ["192.0.2.1", "forbidden"],
    ["2001:db8::1", "forbidden"],
    ["100::1", "forbidden"],
    ["not-an-ip", "forbidden"],
    ["fe80::1%eth0", "forbidden"],
  ];
  test.each(cases)("%s → %s", (ip, verdict) => {
    expect(classifyAddress(ip).verdict).toBe(verdict as never);
  });
});
