// Configuration defaults that depend on the machine, and empty values.
import { describe, expect, test } from "bun:test";
import { defaultReplicaRuns, defaultWorkers, loadConfig } from "../src/config";
import { join, resolve } from "node:path";
import { readFileSync } from "node:fs";
import { KNOWN_SETTINGS, unknownSettings } from "../src/startup";
import { tmpdir } from "node:os";
import { logMessages, startServer } from "./helpers/server";

describe("executor threads", () => {
  test("one fewer than the cores, at least one: the main thread keeps a core for requests", () => {
    expect([1, 2, 3, 4, 16].map((cores) => defaultWorkers(cores))).toEqual([1, 1, 2, 3, 15]);
  });

  test("CLANKER_WORKERS wins over the default; unset, the default follows this machine's cores", () => {
    expect(loadConfig({}, { CLANKER_WORKERS: "5" }).executor.workers).toBe(5);
    expect(loadConfig({}, {}).executor.workers).toBe(defaultWorkers(navigator.hardwareConcurrency));
  });

  test("a replica holds 32 runs per core it uses (its threads and the main one) unless CLANKER_REPLICA_RUNS says", () => {
    expect(loadConfig({}, { CLANKER_WORKERS: "1" }).executor.replicaRuns).toBe(64);
    expect(loadConfig({}, { CLANKER_WORKERS: "3" }).executor.replicaRuns).toBe(128);
    expect(loadConfig({}, {}).executor.replicaRuns).toBe(defaultReplicaRuns(defaultWorkers(navigator.hardwareConcurrency)));
    expect(loadConfig({}, { CLANKER_REPLICA_RUNS: "5", CLANKER_WORKERS: "3" }).executor.replicaRuns).toBe(5);
    expect(() => loadConfig({}, { CLANKER_REPLICA_RUNS: "0" })).toThrow(/CLANKER_REPLICA_RUNS/);
  });

  test("credit grants and prices stay where micro-credit balances are exact: at most 1,000,000,000", () => {
    expect(loadConfig({}, { CLANKER_CREDIT_GRANT: "1000000000", CLANKER_PRICE_OUTPUT_PER_MTOK: "0.5" }).billing).toMatchObject({ grantCredits: 1e9, outputPerMTok: 0.5 });
    for (const name of ["CLANKER_CREDIT_GRANT", "CLANKER_ANONYMOUS_CREDIT_GRANT", "CLANKER_PRICE_INPUT_PER_MTOK"])
      expect(() => loadConfig({}, { [name]: "100000000000000000000" })).toThrow(`${name} must be a number from 0 to 1,000,000,000, got '100000000000000000000'`);
    expect(() => loadConfig({}, { CLANKER_CREDIT_GRANT: "-1" })).toThrow("CLANKER_CREDIT_GRANT must be a number from 0");
  });

  test("model names: empty is unset (the default); blank or padded is refused naming the variable; others are kept as given", () => {
    expect(loadConfig({}, { CLANKER_ANTHROPIC_MODEL: "", CLANKER_OPENAI_MODEL: "" }).models).toMatchObject({ anthropicModel: "claude-sonnet-4-5", openaiModel: "llama3.1" });
    expect(loadConfig({}, { CLANKER_OPENAI_MODEL: "qwen2.5:7b-instruct" }).models.openaiModel).toBe("qwen2.5:7b-instruct");
    for (const name of ["CLANKER_ANTHROPIC_MODEL", "CLANKER_OPENAI_MODEL"])
      for (const bad of [" ", "  \t", " claude", "llama3.1\n", "a\x00b"]) expect(() => loadConfig({}, { [name]: bad })).toThrow(`${name} must be a model's name`);
  });

  test("CLANKER_MAIL_FROM is an address, with or without a name; anything else is refused at start, not by the mail server at the first sign-in", () => {
    for (const from of ["clanker@example.com", "Clanker <clanker@example.com>", "<a@b.test>", '"john doe"@example.com', "bot@example.com (Clanker)", '"A <b>" <x@y.test>', "bot+tag@bücher.example"])
      expect(loadConfig({}, { CLANKER_MAIL_FROM: from }).signin.mailFrom).toBe(from);
    expect(loadConfig({}, {}).signin.mailFrom).toBe("Clanker <clanker@localhost>");
    for (const bad of ["bad", "Clanker", "Clanker <clanker>", "Clanker <a@b.test", "x@y.test\r\nBcc: z@w.test"])
      expect(() => loadConfig({}, { CLANKER_MAIL_FROM: bad })).toThrow("CLANKER_MAIL_FROM must be an address like clanker@example.com");
  });

  test("URLs and names that would start and then never work are refused at start, naming the variable", () => {
    for (const pub of ["http://127.0.0.1:4377/app?x=1", "https://clanker.example/#frag", "https://u:p@clanker.example"])
      expect(() => loadConfig({}, { CLANKER_PUBLIC_URL: pub })).toThrow("CLANKER_PUBLIC_URL must be the server's address only");
    expect(loadConfig({}, { CLANKER_PUBLIC_URL: "https://clanker.example/base/" }).publicUrl).toBe("https://clanker.example/base");
    for (const smtp of ["smtp://", "smtp://user:pw@", "smtps://:587"]) expect(() => loadConfig({}, { CLANKER_SMTP_URL: smtp })).toThrow("CLANKER_SMTP_URL must be smtp://user:pass@host:port");
    // The password is not repeated in the message.
    expect(() => loadConfig({}, { CLANKER_SMTP_URL: "smtp://user:hunter2@" })).not.toThrow("hunter2");
    expect(loadConfig({}, { CLANKER_SMTP_URL: "smtp://u:p@mail.example:587" }).signin.smtpUrl).toBe("smtp://u:p@mail.example:587");
    for (const host of ["clanker.example:8443", "https://clanker.example", "clanker.example/app"])
      expect(() => loadConfig({}, { CLANKER_ALLOWED_HOSTS: `ok.example, ${host}` })).toThrow(`CLANKER_ALLOWED_HOSTS takes host names only, without scheme, port or path (e.g. clanker.example.com), got '${host}'`);
    // A compose service's name may hold an underscore (the Host check reads names as URLs do).
    expect(loadConfig({}, { CLANKER_ALLOWED_HOSTS: "Clanker.Example, [::1], 10.0.0.5, clanker_api" }).allowedHosts).toEqual(expect.arrayContaining(["clanker.example", "clanker_api"]));
    expect(() => loadConfig({}, { CLANKER_METRICS_TOKEN: " ".repeat(16) })).toThrow("CLANKER_METRICS_TOKEN must be at least 16 visible ASCII characters");
    expect(loadConfig({}, { ANTHROPIC_API_KEY: "  " }).models.anthropicApiKey).toBeNull();
  });

  test("CLANKER_TRUSTED_PROXIES takes addresses, CIDR ranges and loopback; anything else is refused at start, naming the entry", () => {
    expect(loadConfig({}, {}).trustedProxies).toEqual([]);
    expect(loadConfig({}, { CLANKER_TRUSTED_PROXIES: "loopback, 10.0.0.0/8,192.168.1.5, 2001:db8::/32" }).trustedProxies).toEqual(["127.0.0.0/8", "::1/128", "10.0.0.0/8", "192.168.1.5/32", "2001:db8::/32"]);
    for (const entry of ["proxy.internal", "10.0.0.0/33", "::1/129", "10.0.0.1/8/8", "10.0.0/8", "0x7f000001", "10.0.0.1/", "fe80::1%eth0", "localhost"])
      expect(() => loadConfig({}, { CLANKER_TRUSTED_PROXIES: `loopback, ${entry}` })).toThrow(`CLANKER_TRUSTED_PROXIES takes IP addresses, CIDR ranges (10.0.0.0/8) and the word loopback, comma-separated; '${entry}' is none of them`);
  });
});

test("the server says at start how many executor threads it runs, and which configured folders are not there", async () => {
  const gone = join(tmpdir(), `clanker-no-such-${process.pid}`);
  const server = await startServer({ env: { CLANKER_WORKERS: "", CLANKER_SKILLS_DIR: `${gone}-skills`, CLANKER_LOCAL_SOURCES: `${tmpdir()},${gone}-sources`, CLANKER_SKILL_DIR: "typo" } });
  try {
    const n = defaultWorkers(navigator.hardwareConcurrency);
    const said = logMessages(server.logs());
    expect(said).toContain(`pid ${server.pid}, ${n} executor thread${n === 1 ? "" : "s"})`);
    expect(said).toContain(`CLANKER_SKILLS_DIR names ${gone}-skills, which is not a folder: its skills or sources are not served; check the path`);
    expect(said).toContain(`CLANKER_LOCAL_SOURCES names ${gone}-sources, which is not a folder`);
    // The folder that is there is not named.
    expect(said).not.toContain(`names ${tmpdir()},`);
    expect(said.split("\n").filter((l) => l.includes("which is not a folder"))).toHaveLength(2);
    expect(said).toContain("CLANKER_SKILL_DIR is not a setting of this server: it is ignored (did you mean CLANKER_SKILLS_DIR?)");
  } finally {
    await server.stop();
  }
});

describe("settings this server does not read", () => {
  test("every CLANKER_ variable the source reads is a known setting (so none is warned about)", () => {
    const read = new Set<string>();
    for (const file of new Bun.Glob("src/**/*.ts").scanSync({ cwd: resolve(import.meta.dir, "..") }))
      for (const m of readFileSync(resolve(import.meta.dir, "..", file), "utf8").matchAll(/\bCLANKER_[A-Z0-9_]+/g)) read.add(m[0]);
    for (const app of ["GITHUB", "SLACK"]) read.add(`CLANKER_${app}_CLIENT_SECRET`);
    expect([...read].filter((name) => !KNOWN_SETTINGS.has(name))).toEqual([]);
    expect([...KNOWN_SETTINGS].filter((name) => !read.has(name))).toEqual([]);
  });

  test("a typo is named at start with the setting it is closest to; other tools' variables are left alone", () => {
    expect(unknownSettings({ CLANKER_DATADIR: "/srv/clanker", CLANKER_DATA_DIR: "x", CLANKER_FROBNICATE: "1", PORT: "1", HOME: "/" })).toEqual([
      "CLANKER_DATADIR is not a setting of this server: it is ignored (did you mean CLANKER_DATA_DIR?); README's Configuration lists them",
      "CLANKER_FROBNICATE is not a setting of this server: it is ignored; README's Configuration lists them",
    ]);
  });
});

describe("the data dir and port", () => {
  test("an empty CLANKER_DATA_DIR is unset (./data), never the current folder; an empty --data or --port is refused", () => {
    expect(loadConfig({}, { CLANKER_DATA_DIR: "" }).dataDir).toBe(resolve("data"));
    expect(loadConfig({}, { CLANKER_DATA_DIR: "" }).dataDir).not.toBe(process.cwd());
    expect(() => loadConfig({ data: "" }, {})).toThrow("--data needs a folder");
    expect(() => loadConfig({ port: "" }, {})).toThrow("--port needs a number");
    expect(loadConfig({}, { PORT: "" }).port).toBe(4377);
  });

  test("every variable the config reads, set to nothing, counts as unset (as the README says): HOST= and CLANKER_LOG= broke every command", async () => {
    const source = await Bun.file(resolve(import.meta.dir, "../src/config.ts")).text();
    const names = [...new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!))];
    expect(names).toContain("HOST");
    expect(names.length).toBeGreaterThan(30);
    const unset = JSON.stringify(loadConfig({}, {}));
    for (const name of names) {
      let loaded: string;
      try {
        loaded = JSON.stringify(loadConfig({}, { [name]: "" }));
      } catch (e) {
        loaded = `refused: ${(e as Error).message}`;
      }
      expect({ name, loaded }).toEqual({ name, loaded: unset });
    }
  });
});
