// The access log's fast path (src/lib/log.ts writes flat lines itself) writes byte for byte what pino writes.
import { expect, test } from "bun:test";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

test("a flat line from the fast path equals pino's own line for the same message and fields", async () => {
  // Each case is logged twice: as given (the fast path) and with one extra nested field (which only pino
  // writes), then that field is cut out of pino's line. Times are masked.
  const script = `
    import { createLog } from ${JSON.stringify(resolve(ROOT, "src/lib/log.ts"))};
    const log = createLog({ level: "info", format: "json" });
    const cases = [
      [\`GET /api/v1/profile 200 0.3ms req_1\`, { requestId: "req_1", method: "GET", route: "/api/v1/profile", status: 200, ms: 0.3 }],
      ['quo"te é 😀', { a: 'x"y\\\\z\\n\\u2028 é 😀', b: NaN, c: -Infinity, d: -0, e: true, f: null, g: undefined, h: 1e21, 'we"ird': 1 }],
    ];
    for (const [msg, fields] of cases) {
      log.info(msg, fields);
      log.warn(msg, { ...fields, zz: [1] });
      log.debug(msg, fields); // below the level: nothing
    }
    // access(): its own line builder, against pino's line for the same message and fields; a method, route or
    // id that JSON escapes takes the generic path.
    for (const [method, route, status, ms, id] of [["GET", "/api/v1/profile", 200, 0.3, "req_1"], ["GET", "/api/v1/profile", 404, 12, "req_2"], ["PO\\ST", '/a"b', 500, 0, "r é"]]) {
      log.access(method, route, status, ms, id);
      log.warn(\`\${method} \${route} \${status} \${ms}ms \${id}\`, { requestId: id, method, route, status, ms, zz: [1] });
    }
  `;
  const p = Bun.spawn([process.execPath, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(err).toBe("");
  const lines = out.trim().split("\n").map((l) => l.replace(/"time":"[^"]+"/, '"time":"T"'));
  expect(lines.length).toBe(10);
  for (let i = 0; i < lines.length; i += 2) {
    const fast = lines[i]!;
    const viaPino = lines[i + 1]!.replace('"level":"warn"', '"level":"info"').replace(',"zz":[1]', "");
    expect(fast).toBe(viaPino);
    expect(JSON.parse(fast).level).toBe("info");
  }
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
