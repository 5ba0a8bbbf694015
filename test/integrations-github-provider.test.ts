// The github integration provider, called directly against the fake GitHub (real Octokit over HTTP): its actions
// act with the github connector's token, and GitHub's failures come back as the integrations' typed errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config";
import { ApiError } from "../src/lib/errors";
import type { ConnectionStore } from "../src/modules/connections/store";
import { createGithubIntegration } from "../src/modules/integrations/providers/github";
import { startFakeGithub, type FakeGithub } from "./helpers/fake-github";
import { freePort } from "./helpers/suite";

let gh: FakeGithub;
const tokens = new Map<number, string>(); // workspace → the github connector's token
const connections = {
  get: (ws: number, kind: string, provider: string) =>
    kind === "connector" && provider === "github" && tokens.has(ws) ? { account: "octocat", credentials: { token: tokens.get(ws)! } } : null,
} as unknown as ConnectionStore;
const provider = createGithubIntegration(connections);
let config: ReturnType<typeof loadConfig>;
const ctx = (workspaceId: number) => ({ config, workspaceId, credentials: null, settings: {} });

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error("expected a failure");
}

beforeAll(() => {
  gh = startFakeGithub({ tokens: { "ghp_good": "octocat" }, repos: { "octocat/alpha": { branches: { main: {} } } } });
  config = loadConfig({}, { CLANKER_GITHUB_API_URL: gh.url, CLANKER_DATA_DIR: "/tmp/unused" });
  tokens.set(1, "ghp_good");
  tokens.set(2, "ghp_revoked");
  tokens.set(3, "ghp_ratelimited");
});
afterAll(() => gh.stop());

describe("github integration provider", () => {
  test("declares create_issue and comment with JSON Schema inputs", () => {
    expect(provider.actions.map((a) => [a.name, a.input.required])).toEqual([["create_issue", ["repo", "title"]], ["comment", ["repo", "number", "body"]]]);
  });

  test("connect needs the github connector; it stores nothing of its own", async () => {
    expect(await provider.connect(ctx(1), undefined)).toEqual({ connected: { account: "octocat", credentials: null } });
    expect((await failure(provider.connect(ctx(9), undefined))).code).toBe("CONNECTOR_NOT_CONNECTED");
  });

  test("create_issue then comment reach GitHub with the connector's token", async () => {
    const issue = (await provider.execute(ctx(1), "create_issue", { repo: "octocat/alpha", title: "Found a bug", body: "Details" })) as any;
    expect(issue).toMatchObject({ number: 1, url: "https://github.example/octocat/alpha/issues/1" });
    expect(gh.issues).toEqual([{ repo: "octocat/alpha", number: 1, title: "Found a bug", body: "Details", login: "octocat" }]);
    const comment = (await provider.execute(ctx(1), "comment", { repo: "octocat/alpha", number: 1, body: "LGTM" })) as any;
    expect(comment.url).toContain("/issues/1#issuecomment-");
    expect(gh.comments).toEqual([{ repo: "octocat/alpha", number: 1, body: "LGTM", login: "octocat" }]);
    expect(gh.requests.filter((r) => r.method === "POST").every((r) => r.authorization === "token ghp_good")).toBe(true);
  });

  test("failures are typed: auth, rate limit, GitHub's own refusal, no connection", async () => {
    expect((await failure(provider.execute(ctx(2), "create_issue", { repo: "octocat/alpha", title: "x" }))).code).toBe("INTEGRATION_AUTH_FAILED");
    const limited = await failure(provider.execute(ctx(3), "create_issue", { repo: "octocat/alpha", title: "x" }));
    expect({ code: limited.code, status: limited.status, retry: Number(limited.headers?.["retry-after"]) > 0 }).toEqual({ code: "INTEGRATION_RATE_LIMITED", status: 429, retry: true });
    const missing = await failure(provider.execute(ctx(1), "comment", { repo: "octocat/alpha", number: 99, body: "x" }));
    expect({ code: missing.code, status: missing.status }).toEqual({ code: "INTEGRATION_ERROR", status: 400 });
    expect((await failure(provider.execute(ctx(9), "comment", { repo: "octocat/alpha", number: 1, body: "x" }))).code).toBe("CONNECTOR_NOT_CONNECTED");
  });

  test("a GitHub that cannot be reached is a 503 saying so, not an answer GitHub never gave", async () => {
    const offline = loadConfig({}, { CLANKER_GITHUB_API_URL: `http://127.0.0.1:${await freePort()}`, CLANKER_DATA_DIR: "/tmp/unused" });
    const e = await failure(provider.execute({ ...ctx(1), config: offline }, "create_issue", { repo: "octocat/alpha", title: "x" }));
    expect({ code: e.code, status: e.status }).toEqual({ code: "INTEGRATION_ERROR", status: 503 });
    expect(e.message).toStartWith("GitHub: could not be reached (");
  });
});
