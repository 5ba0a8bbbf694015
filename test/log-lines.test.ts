// src/lib/log.ts writes pino's JSON lines itself (pino is not loaded: it cost every start ~10 ms). They must stay
// byte for byte what pino wrote, since log pipelines parse them: each case is logged by ours and by a real pino,
// configured as the server's pino was, and the lines are compared.
import { expect, test } from "bun:test";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

test("every line is byte for byte the line pino writes for the same level, message and fields", async () => {
  // Ours to stdout, pino's to stderr (synchronously), same order; times are masked.
  const script = `
    import pino from "pino";
    import { createLog } from ${JSON.stringify(resolve(ROOT, "src/lib/log.ts"))};
    const ours = createLog({ level: "info", format: "json" });
    const theirs = pino(
      { level: "info", base: { pid: process.pid }, timestamp: () => \`,"time":"\${new Date().toISOString()}"\`, formatters: { level: (label) => ({ level: label }) } },
      pino.destination({ dest: 2, sync: true }),
    );
    const boom = new Error("boom");
    const cases = [
      ["info", "plain message", undefined],
      ["warn", 'quo"te é 😀 \\\\ \\n line', undefined],
      ["info", \`GET /api/v1/profile 200 0.3ms req_1\`, { requestId: "req_1", method: "GET", route: "/api/v1/profile", status: 200, ms: 0.3 }],
      ["error", 'quo"te é 😀', { a: 'x"y\\\\z\\n\\u2028 é 😀', b: NaN, c: -Infinity, d: -0, e: true, f: null, g: undefined, h: 1e21, 'we"ird': 1 }],
      ["info", "nested", { list: [1, "two", { three: 3 }], obj: { a: { b: [null] } }, n: 4 }],
      ["error", "fan-out subscriber failed", { channel: "events", err: "connection reset" }],
      ["error", "with an error", { err: boom }],
      ["debug", "below the level: nothing", { n: 1 }],
    ];
    for (const [level, msg, fields] of cases) {
      fields ? ours[level](msg, fields) : ours[level](msg);
      fields ? theirs[level](fields, msg) : theirs[level](msg);
    }
    // access(): its own line builder; a method, route or id that JSON escapes takes the generic path.
    for (const [method, route, status, ms, id] of [["GET", "/api/v1/profile", 200, 0.3, "req_1"], ["GET", "/api/v1/profile", 404, 12, "req_2"], ["PO\\ST", '/a"b', 500, 0, "r é"]]) {
      ours.access(method, route, status, ms, id);
      theirs.info({ requestId: id, method, route, status, ms }, \`\${method} \${route} \${status} \${ms}ms \${id}\`);
    }
    ours("a plain line");
    theirs.info("a plain line");
  `;
  const p = Bun.spawn([process.execPath, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (!out) throw new Error(err);
  const mask = (text: string) => text.split("\n").map((l) => l.replace(/"time":"[^"]+"/, '"time":"T"'));
  const ours = mask(out);
  const pinos = mask(err);
  expect(ours.length).toBe(12); // 10 lines, the debug one left out, and the empty string after the last newline
  expect(ours).toEqual(pinos);
  for (const line of ours.filter(Boolean)) expect(JSON.parse(line).pid).toBe(p.pid);
});

test("one event-loop turn's lines leave in one write, in order; an error goes out at once; the rest at exit", async () => {
  // Busy waits keep everything in one turn: a line written on its own would reach the pipe 300 ms before the next.
  const script = `
    import { createLog } from ${JSON.stringify(resolve(ROOT, "src/lib/log.ts"))};
    const log = createLog({ level: "info", format: "json" });
    const spin = (ms) => { const until = Date.now() + ms; while (Date.now() < until) {} };
    log("one");
    log.info("two", { n: 2 });
    spin(300);
    log.error("three");
    spin(300);
    log.info("four", { n: 4 });
    process.exit(0);
  `;
  const p = Bun.spawn([process.execPath, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of p.stdout) chunks.push(decoder.decode(chunk));
  expect(await p.exited).toBe(0);
  const msgs = (text: string) => text.trim().split("\n").map((l) => (JSON.parse(l) as { msg: string }).msg);
  expect(msgs(chunks[0]!)).toEqual(["one", "two", "three"]);
  expect(msgs(chunks.join(""))).toEqual(["one", "two", "three", "four"]);
});

test("a failed query's log line says why (the driver's message and code), and leaves its parameters out", async () => {
  const { Database } = await import("bun:sqlite");
  const { DrizzleQueryError } = await import("drizzle-orm/errors");
  const { describeError } = await import("../src/lib/errors");
  const sqlite = new Database(":memory:");
  sqlite.run("CREATE TABLE notes (body TEXT NOT NULL UNIQUE)");
  const secret = "sk-user-input-0123456789";
  const insert = 'insert into "notes" ("body") values (?)';
  sqlite.run(insert, [secret]);
  let driverError: unknown;
  try {
    sqlite.run(insert, [secret]);
  } catch (e) {
    driverError = e;
  }
  // How drizzle's async drivers (postgres.js) hand a failure up: the statement and its parameters, the reason as cause.
  const wrapped = new DrizzleQueryError(insert, [secret], driverError as Error);
  expect(wrapped.message).not.toContain("UNIQUE");
  const line = describeError(wrapped);
  expect(line).toBe('Failed query: insert into "notes" ("body") values (?): UNIQUE constraint failed: notes.body (SQLITE_CONSTRAINT_UNIQUE)');
  expect(line).not.toContain(secret);
  expect(describeError("plain text")).toBe("plain text");
  expect(describeError(Object.assign(new Error("connect refused"), { code: "ECONNREFUSED" }))).toBe("connect refused (ECONNREFUSED)");
  sqlite.close();
});

test("a reader that falls behind (a full pipe) loses no line: the writes wait for it", async () => {
  const script = `
    import { createLog } from ${JSON.stringify(resolve(ROOT, "src/lib/log.ts"))};
    const log = createLog({ level: "info", format: "json" });
    for (let i = 0; i < 20000; i++) log.info("line " + i + " " + "x".repeat(80));
    log.info("last");
  `;
  const p = Bun.spawn([process.execPath, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  await Bun.sleep(1000); // the pipe holds 64 KB: the writer meets it full long before this
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  const msgs = out.trim().split("\n").map((l) => (JSON.parse(l) as { msg: string }).msg);
  expect(msgs.length).toBe(20001);
  expect(msgs[12345]).toBe(`line 12345 ${"x".repeat(80)}`);
  expect(msgs.at(-1)).toBe("last");
});
