// Artifacts over real HTTP: a completed run stores its output as a Markdown artifact (and any fenced
// `file=` blocks as further files) under <dataDir>/artifacts; list, get, download with the right content
// type, delete (row and file), isolation between workspaces, and the audit trail.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { answerFor, startFakeModel, type FakeModel } from "./helpers/fake-models";
import { emittedFiles, MAX_RUN_FILES } from "../src/modules/artifacts/service";
import { cleanup, client, startServer, testDialect, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { runSql } from "./helpers/sql";

type Call = ReturnType<typeof client>;

let fake: FakeModel;
let srv: TestServer;
let a: Call;
let b: Call;
let ka: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const marker = (tag: string) => `${tag}-${process.pid}-${++seq}`;

function expectError(r: ApiResponse, status: number, type: string) {
  expect({ status: r.status, type: r.body?.error?.type, text: r.text }).toMatchObject({ status, type });
}

async function runToEnd(call: Call, input: string): Promise<any> {
  const r = await call("POST", "/api/v1/skills/summarize/run", { body: { input } });
  expect(r.status).toBe(200);
  const id = r.body.executionId;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const s = await call("GET", `/api/v1/executions/${id}/status`);
    expect(s.status).toBe(200);
    if (["completed", "failed", "cancelled"].includes(s.body.status)) return s.body;
    await sleep(50);
  }
  throw new Error(`execution ${id} did not end in 10 s`);
}

/** Every file under <dataDir>/artifacts, as absolute paths. */
function artifactFiles(): string[] {
  const root = join(srv.dataDir, "artifacts");
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[]).map((p) => join(root, p)).filter((p) => statSync(p).isFile());
}

/** The file on disk holding exactly `content` whose name ends with `suffix`. */
function fileOnDisk(suffix: string, content: string): string | undefined {
  return artifactFiles().find((p) => p.endsWith(suffix) && readFileSync(p, "utf8") === content);
}

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  srv = await startServer({
    env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_WORKERS: "2", ANTHROPIC_API_KEY: "sk-ant-artifacts-0123456789abcdefghij", ANTHROPIC_BASE_URL: fake.url, OPENAI_BASE_URL: "" },
  });
  let kb: string;
  [ka, kb] = await Promise.all([srv.createKey({ email: uniqueEmail("art-a") }), srv.createKey({ email: uniqueEmail("art-b") })]);
  a = client(srv, { apiKey: ka });
  b = client(srv, { apiKey: kb });
}, 30_000);

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
  fake?.stop();
});

describe("the output artifact of a run", () => {
  let exec: any;
  let input: string;
  let art: any;

  test("a completed run has an artifactId", async () => {
    input = `Summarize for an artifact ${marker("art")}`;
    exec = await runToEnd(a, input);
    expect(exec.status).toBe("completed");
    expect(exec.artifactId).toMatch(/^art_\d+$/);
    expect(exec.artifactIds).toEqual([exec.artifactId]);
  });

  test("GET /artifacts lists it", async () => {
    const r = await a("GET", "/api/v1/artifacts?limit=100");
    expect(r.status).toBe(200);
    const row = r.body.data.find((x: any) => x.id === exec.artifactId);
    expect(row).toBeDefined();
    expect(row.executionId).toBe(exec.executionId);
    expect(r.body.first_id).toBe(exec.artifactId);
  });

  test("GET /artifacts/:id describes it (Markdown, its execution, its size)", async () => {
    const r = await a("GET", `/api/v1/artifacts/${exec.artifactId}`);
    expect(r.status).toBe(200);
    const output = answerFor(input).join("");
    expect(r.body).toMatchObject({
      id: exec.artifactId,
      mediaType: "text/markdown",
      executionId: exec.executionId,
      skillSlug: "summarize",
      size: Buffer.byteLength(output),
      downloadUrl: `/api/v1/artifacts/${exec.artifactId}/download`,
    });
    expect(r.body.name).toMatch(/\.md$/);
    // Raw numeric ids work too.
    expect((await a("GET", `/api/v1/artifacts/${exec.artifactId.replace("art_", "")}`)).body.id).toBe(exec.artifactId);
    art = r.body;
  });

  test("GET /artifacts/:id/download returns the output as text/markdown", async () => {
    const r = await a("GET", `/api/v1/artifacts/${exec.artifactId}/download`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/markdown/);
    const output = exec.outputBlocks.map((x: any) => x.content).join("");
    expect(r.text).toBe(output);
    expect(r.text).toBe(answerFor(input).join(""));
    expect(Number(r.headers.get("content-length"))).toBe(art.size);
  });

  test("a download carries an ETag (If-None-Match → 304) and answers one byte range (206; past the end 416); the same on HEAD", async () => {
    const url = `/api/v1/artifacts/${exec.artifactId}/download`;
    const output = answerFor(input).join("");
    const full = await a("GET", url);
    const etag = full.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-z]+"$/);
    expect(full.headers.get("accept-ranges")).toBe("bytes");
    const again = await a("GET", url, { headers: { "if-none-match": `"other", W/${etag}` } });
    expect({ status: again.status, body: again.text, etag: again.headers.get("etag") }).toEqual({ status: 304, body: "", etag });
    const part = await a("GET", url, { headers: { range: "bytes=5-9" } });
    expect({ status: part.status, body: part.text, range: part.headers.get("content-range"), length: part.headers.get("content-length") }).toEqual({
      status: 206,
      body: output.slice(5, 10),
      range: `bytes 5-9/${art.size}`,
      length: "5",
    });
    // The rest from an offset, the last bytes, and a range running past the end (clamped).
    expect((await a("GET", url, { headers: { range: "bytes=5-" } })).text).toBe(output.slice(5));
    expect((await a("GET", url, { headers: { range: "bytes=-4" } })).text).toBe(output.slice(-4));
    expect((await a("GET", url, { headers: { range: `bytes=0-${art.size + 100}` } })).headers.get("content-range")).toBe(`bytes 0-${art.size - 1}/${art.size}`);
    const past = await a("GET", url, { headers: { range: `bytes=${art.size}-` } });
    expect({ status: past.status, range: past.headers.get("content-range") }).toEqual({ status: 416, range: `bytes */${art.size}` });
    // Several ranges, another unit, or an If-Range for another version: the whole file.
    for (const headers of [{ range: "bytes=0-1,4-5" }, { range: "items=0-1" }, { range: "bytes=0-1", "if-range": '"stale"' }] as Record<string, string>[]) {
      const r = await a("GET", url, { headers });
      expect({ headers, status: r.status, body: r.text }).toEqual({ headers, status: 200, body: output });
    }
    const head = await fetch(`${srv.url}${url}`, { method: "HEAD", headers: { "x-api-key": ka } });
    expect({ status: head.status, etag: head.headers.get("etag"), length: head.headers.get("content-length") }).toEqual({ status: 200, etag, length: String(art.size) });
  });

  test("another workspace → 404 on get, download and delete; not listed", async () => {
    expectError(await b("GET", `/api/v1/artifacts/${exec.artifactId}`), 404, "not_found_error");
    expectError(await b("GET", `/api/v1/artifacts/${exec.artifactId}/download`), 404, "not_found_error");
    expectError(await b("DELETE", `/api/v1/artifacts/${exec.artifactId}`), 404, "not_found_error");
    expect((await b("GET", "/api/v1/artifacts?limit=100")).body.data.some((x: any) => x.id === exec.artifactId)).toBe(false);
    // Still there for its owner.
    expect((await a("GET", `/api/v1/artifacts/${exec.artifactId}`)).status).toBe(200);
  });

  test("a file gone from the data dir while its row stays: the download says so and what brings it back", async () => {
    if (testDialect() === "postgres") return; // the bytes are a row there, written with the artifact's
    const input = `Summarize and lose the file ${marker("lost")}`;
    const made = await runToEnd(a, input);
    const art = (await a("GET", `/api/v1/artifacts/${made.artifactId}`)).body;
    rmSync(fileOnDisk(art.name, answerFor(input).join(""))!);
    const missing = await a("GET", `/api/v1/artifacts/${made.artifactId}/download`);
    expectError(missing, 404, "not_found_error");
    expect(missing.body.error.code).toBe("ARTIFACT_FILE_MISSING");
    expect(missing.body.error.message).toContain(`The artifact ${made.artifactId} is listed but its file is missing from the server's data`);
    expect(missing.body.error.message).toContain("restore it from a backup, or delete the artifact");
  });

  test("DELETE removes the row (then 404) and the file under <dataDir>/artifacts; audit artifact.delete", async () => {
    const output = answerFor(input).join("");
    // On SQLite the bytes are a file under <dataDir>/artifacts; under PostgreSQL a row of the shared files table.
    const onPostgres = testDialect() === "postgres";
    const storedRows = () => runSql(srv, "SELECT path FROM files WHERE path LIKE ?", "artifacts/%");
    const rowsBefore = onPostgres ? await storedRows() : 0;
    const path = onPostgres ? undefined : fileOnDisk(art.name, output);
    if (!onPostgres) {
      expect(path).toBeDefined();
      expect(path!.startsWith(join(srv.dataDir, "artifacts"))).toBe(true);
    } else expect(rowsBefore).toBeGreaterThan(0);
    const r = await a("DELETE", `/api/v1/artifacts/${exec.artifactId}`, { headers: { "x-request-id": "artifact-delete-1" } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: exec.artifactId, deleted: true });
    expectError(await a("GET", `/api/v1/artifacts/${exec.artifactId}`), 404, "not_found_error");
    expectError(await a("GET", `/api/v1/artifacts/${exec.artifactId}/download`), 404, "not_found_error");
    expectError(await a("DELETE", `/api/v1/artifacts/${exec.artifactId}`), 404, "not_found_error");
    expect((await a("GET", "/api/v1/artifacts?limit=100")).body.data.some((x: any) => x.id === exec.artifactId)).toBe(false);
    if (onPostgres) expect(await storedRows()).toBe(rowsBefore - 1);
    else expect(existsSync(path!)).toBe(false);
    const logs = await a("GET", "/api/v1/audit-logs?limit=100&action=artifact.delete");
    expect(logs.status).toBe(200);
    const rows = logs.body.data.filter((e: any) => e.resourceId === exec.artifactId);
    expect(rows.length).toBe(1);
    expect(rows[0]).toMatchObject({ action: "artifact.delete", resourceType: "artifact", requestId: "artifact-delete-1" });
  });
});

describe("files a skill emits", () => {
  test("a [[file]] run also yields an index.html artifact (text/html) with the fenced block's content", async () => {
    const exec = await runToEnd(a, `Make a page [[file]] ${marker("file")}`);
    expect(exec.status).toBe("completed");
    expect(exec.artifactIds.length).toBe(2);
    expect(exec.artifactId).toBe(exec.artifactIds[0]);
    const metas = await Promise.all(exec.artifactIds.map(async (id: string) => (await a("GET", `/api/v1/artifacts/${id}`)).body));
    expect(metas[0].mediaType).toBe("text/markdown");
    const html = metas.find((m: any) => m.name === "index.html");
    expect(html).toBeDefined();
    expect(html).toMatchObject({ mediaType: "text/html", executionId: exec.executionId });
    const dl = await a("GET", `/api/v1/artifacts/${html.id}/download`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get("content-type")).toMatch(/^text\/html/);
    expect(dl.text).toBe("<h1>Hello</h1>\n");
    // The Markdown artifact still carries the whole output, fence included.
    const md = await a("GET", `/api/v1/artifacts/${exec.artifactIds[0]}/download`);
    expect(md.text).toBe(exec.outputBlocks.map((x: any) => x.content).join(""));
    expect(md.text).toContain("```html file=index.html");
    // Both are listed, newest first.
    const list = await a("GET", "/api/v1/artifacts?limit=2");
    expect(list.body.data.map((x: any) => x.id).sort()).toEqual([...exec.artifactIds].sort());
    // Rows as versions before 2026-12 laid a run's files out (a folder per run): the output is still its artifactId.
    const id = Number(exec.executionId.replace("exec_", ""));
    expect(await runSql(srv, "UPDATE artifacts SET path = replace(path, '/' || CAST(execution_id AS TEXT) || '-', '/' || CAST(execution_id AS TEXT) || '/') WHERE execution_id = ?", id)).toBe(2);
    const old = (await a("GET", `/api/v1/executions/${exec.executionId}/status`)).body;
    expect({ artifactId: old.artifactId, artifactIds: old.artifactIds }).toEqual({ artifactId: exec.artifactId, artifactIds: exec.artifactIds });
  });
});

describe("files a skill emits: their names", () => {
  test("keep other scripts and the extension (so the type) of a long name; a dotfile is a file; a path is its base name; only dots is none", async () => {
    const exec = await runToEnd(a, `Odd names [[names]] ${marker("names")}`);
    expect(exec.status).toBe("completed");
    const metas = await Promise.all(exec.artifactIds.slice(1).map(async (id: string) => (await a("GET", `/api/v1/artifacts/${id}`)).body));
    const long = `report-${"b".repeat(90)}.md`;
    expect(metas.map((m: any) => [m.name, m.mediaType])).toEqual([
      ["résumé.md", "text/markdown"],
      ["日本語.txt", "text/plain"],
      [long, "text/markdown"],
      [".env", "text/plain"],
      ["passwd", "text/plain"],
      ["a", "text/plain"],
      // A letter whose ASCII form is 18 characters long: its file on disk is still a name the disk takes.
      [`${"\uFDFA".repeat(96)}.txt`, "text/plain"],
    ]);
    expect(long.length).toBe(100);
    // A download names it as it is (RFC 6266 filename*), with a plain ASCII filename beside it.
    const dl = await a("GET", `/api/v1/artifacts/${metas[0].id}/download`);
    expect({ text: dl.text, disposition: dl.headers.get("content-disposition") }).toEqual({ text: "résumé.md\n", disposition: "attachment; filename=\"resume.md\"; filename*=UTF-8''r%C3%A9sum%C3%A9.md" });
    expect(dl.headers.get("x-content-type-options")).toBe("nosniff");
    const cjk = await a("GET", `/api/v1/artifacts/${metas[1].id}/download?inline=1`);
    expect(cjk.headers.get("x-content-type-options")).toBe("nosniff");
    expect(cjk.headers.get("content-disposition")).toBe(`inline; filename="___.txt"; filename*=UTF-8''${encodeURIComponent("日本語.txt")}`);
    const expanded = await a("GET", `/api/v1/artifacts/${metas[6].id}/download`);
    expect({ text: expanded.text, ascii: /filename="([^"]*)"/.exec(expanded.headers.get("content-disposition")!)![1]!.length }).toEqual({ text: `${"\uFDFA".repeat(100)}.txt\n`, ascii: 100 });
    // The run after it completes too (a file that cannot be written held every later run back).
    expect((await runToEnd(a, `After the odd names ${marker("after-names")}`)).status).toBe("completed");
  });
});

describe.skipIf(testDialect() === "postgres")("the artifacts folder on disk", () => {
  /** The folder under <dataDir>/artifacts that holds this run's files (one per workspace). */
  const folderOf = (exec: any): string | undefined => {
    const file = artifactFiles().find((p) => basename(p).startsWith(`${exec.executionId.replace("exec_", "")}-`));
    return file && dirname(file);
  };

  test("a workspace's folder removed while the server runs is made again by the next run", async () => {
    const first = await runToEnd(a, `Summarize before the folder goes ${marker("gone")}`);
    expect(first.status).toBe("completed");
    const folder = folderOf(first);
    expect(folder).toBeDefined();
    // An operator's cleanup: the server has made this folder before and must not count on it still being there.
    rmSync(folder!, { recursive: true, force: true });
    const input = `Summarize after the folder went ${marker("again")}`;
    const next = await runToEnd(a, input);
    expect(next.status).toBe("completed");
    const dl = await a("GET", `/api/v1/artifacts/${next.artifactId}/download`);
    expect(dl.status).toBe(200);
    expect(dl.text).toBe(answerFor(input).join(""));
  });

  test("a run whose output cannot be written stays running, then completes once the disk lets it (no lost run)", async () => {
    const first = await runToEnd(a, `Summarize before the folder is blocked ${marker("block")}`);
    const folder = folderOf(first)!;
    expect(folder).toBeDefined();
    // A file where the folder was: writing the next output fails (ENOTDIR) until it is gone.
    rmSync(folder, { recursive: true, force: true });
    writeFileSync(folder, "in the way");
    const input = `Summarize while the folder is blocked ${marker("blocked")}`;
    const started = await a("POST", "/api/v1/skills/summarize/run", { body: { input } });
    expect(started.status).toBe(200);
    const id = started.body.executionId;
    await sleep(700);
    expect((await a("GET", `/api/v1/executions/${id}/status`)).body.status).toBe("running");
    expect(srv.logs()).toContain("finished run(s) failed, retrying");
    rmSync(folder);
    const deadline = Date.now() + 10_000;
    let s: any;
    while (Date.now() < deadline && !["completed", "failed", "cancelled"].includes((s = (await a("GET", `/api/v1/executions/${id}/status`)).body).status)) await sleep(50);
    expect(s.status).toBe("completed");
    const dl = await a("GET", `/api/v1/artifacts/${s.artifactId}/download`);
    expect(dl.status).toBe(200);
    expect(dl.text).toBe(answerFor(input).join(""));
  });
});

describe.skipIf(testDialect() === "postgres")("a run whose output cannot be saved", () => {
  let s2: TestServer;
  let blocked: Call;
  let other: Call;
  beforeAll(async () => {
    // A short time limit: the run that cannot be saved is given up after failing for that long.
    s2 = await startServer({
      env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_WORKERS: "2", CLANKER_RUN_TIMEOUT_SECONDS: "6", ANTHROPIC_API_KEY: "sk-ant-artifacts-0123456789abcdefghij", ANTHROPIC_BASE_URL: fake.url, OPENAI_BASE_URL: "" },
    });
    const [kb, ko] = await Promise.all([s2.createKey({ email: uniqueEmail("art-blocked") }), s2.createKey({ email: uniqueEmail("art-other") })]);
    blocked = client(s2, { apiKey: kb });
    other = client(s2, { apiKey: ko });
  }, 30_000);
  afterAll(async () => {
    await s2?.stop();
    if (s2) cleanup(s2);
  });

  test("holds back no other run, and fails with OUTPUT_NOT_SAVED, uncharged, once it has failed for its time limit", async () => {
    const first = await runToEnd(blocked, `Summarize before the block ${marker("held")}`);
    const root = join(s2.dataDir, "artifacts");
    const folder = dirname((readdirSync(root, { recursive: true }) as string[]).map((p) => join(root, p)).find((p) => basename(p).startsWith(`${first.executionId.replace("exec_", "")}-`))!);
    rmSync(folder, { recursive: true, force: true });
    writeFileSync(folder, "in the way");
    const before = (await blocked("GET", "/api/v1/billing/balance")).body;
    const stuck = await blocked("POST", "/api/v1/skills/summarize/run", { body: { input: `Summarize while blocked ${marker("stuck")}` } });
    expect(stuck.status).toBe(200);
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !s2.logs().includes("finished run(s) failed")) await sleep(50);
    expect(s2.logs()).toContain("finished run(s) failed");
    // Another workspace's runs, ending while the blocked one is retried, complete at once (they were held with it).
    const started = Date.now();
    const others = await Promise.all([1, 2, 3].map((i) => runToEnd(other, `Summarize beside the block ${marker(`beside-${i}`)}`)));
    expect({ statuses: others.map((o) => o.status), fast: Date.now() - started < 4_500 }).toEqual({ statuses: ["completed", "completed", "completed"], fast: true });
    expect((await blocked("GET", `/api/v1/executions/${stuck.body.executionId}/status`)).body.status).toBe("running");
    // Given up after failing for the run's 6 s limit (tried again with pauses of 0.2, 0.4, 0.8, 1.6, 3.2 s…).
    let s: any;
    const end = Date.now() + 15_000;
    while (Date.now() < end && (s = (await blocked("GET", `/api/v1/executions/${stuck.body.executionId}/status`)).body).status === "running") await sleep(100);
    expect({ status: s.status, code: s.error?.code }).toEqual({ status: "failed", code: "OUTPUT_NOT_SAVED" });
    expect(s.error.message).toContain("rerun it");
    expect(s2.logs()).toContain(`gave up saving run ${stuck.body.executionId}`);
    expect((await blocked("GET", "/api/v1/billing/balance")).body).toEqual(before);
    // The folder is free again: the workspace's next run completes.
    rmSync(folder);
    expect((await runToEnd(blocked, `Summarize after the block ${marker("after")}`)).status).toBe("completed");
  }, 30_000);

  test("a run whose rows the database refuses is given up without leaving its written files on disk", async () => {
    const ws = Number((await blocked("GET", "/api/v1/workspaces/current")).body.id.replace("ws_", ""));
    // Its files are written (the folder is free), then the commit that points rows at them fails, at every try.
    const db = new Database(join(s2.dataDir, "clanker.db"));
    db.run(`CREATE TRIGGER refuse_artifacts BEFORE INSERT ON artifacts WHEN NEW.workspace_id = ${ws} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    try {
      const run = await blocked("POST", "/api/v1/skills/summarize/run", { body: { input: `Summarize, refused ${marker("refused")}` } });
      expect(run.status).toBe(200);
      let s: any;
      const end = Date.now() + 15_000;
      while (Date.now() < end && ["queued", "running"].includes((s = (await blocked("GET", `/api/v1/executions/${run.body.executionId}/status`)).body).status)) await sleep(100);
      expect({ status: s.status, code: s.error?.code }).toEqual({ status: "failed", code: "OUTPUT_NOT_SAVED" });
      const prefix = `${run.body.executionId.replace("exec_", "")}-`;
      expect(readdirSync(join(s2.dataDir, "artifacts", String(ws))).filter((f) => f.startsWith(prefix))).toEqual([]);
    } finally {
      db.run("DROP TRIGGER refuse_artifacts");
      db.close();
    }
  }, 30_000);
});

test("a run's output names at most MAX_RUN_FILES files: the rest stay in the output only", () => {
  const output = Array.from({ length: 150 }, (_, i) => `\`\`\`text file=f${i}.txt\nfile ${i}\n\`\`\`\n`).join("\n");
  const files = emittedFiles(output);
  expect({ n: files.length, first: files[0]?.name, last: files.at(-1)?.name }).toEqual({ n: MAX_RUN_FILES, first: "f0.txt", last: `f${MAX_RUN_FILES - 1}.txt` });
});
