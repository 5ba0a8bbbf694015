// The `github` connector: GitHub or GitHub Enterprise through Octokit (CLANKER_GITHUB_API_URL), connected with a
// token or the OAuth web flow (CLANKER_GITHUB_CLIENT_ID/_SECRET on CLANKER_GITHUB_OAUTH_URL). Sources are the
// account's repositories as `owner/repo`, paged as GitHub pages them (Link headers).
import { isRepoName } from "../../../lib/github-names";
import type { Octokit } from "@octokit/rest";
import type { Config } from "../../../config";
import { guardedFetch } from "../../../lib/outbound";
import { ApiError, InvalidRequestError, NotFoundError, RateLimitError } from "../../../lib/errors";
import type { ConnectorContext, ConnectorProvider, SourceContent } from "../provider";
import { fileContent, outside, safeSegments, tooLarge } from "./git-reader";
import { isJsonObject } from "../../../lib/json-object";


/** An Octokit for this server's GitHub, acting with the token. */
export function octokitFor(config: Config, token: string | null): Octokit {
  // Octokit is loaded (require) by the first GitHub call, not at start.
  const { Octokit } = require("@octokit/rest") as typeof import("@octokit/rest");
  return new Octokit({
    auth: token ?? undefined,
    baseUrl: config.connectors.githubApiUrl,
    userAgent: "clanker-self-hosted",
    log: { debug() {}, info() {}, warn() {}, error() {} },
    request: { fetch: boundedFetch },
  });
}

/** Long enough for a file's raw bytes up to a run's limit; Slack's calls get 15 s, a webhook 10. */
const GITHUB_TIMEOUT_MS = 30_000;

/**
 * Octokit's fetch with a deadline: a GitHub (or GitHub Enterprise server) that took a request and never answered held
 * the workflow step or the REST action waiting on it for good. The body is read within it too: Octokit swallows a
 * body that fails mid-read and answers 200 with "" (a comment "posted" with no id). Past it, Octokit reports no
 * answer: "could not be reached".
 */
const boundedFetch: typeof fetch = Object.assign(
  async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const deadline = AbortSignal.timeout(GITHUB_TIMEOUT_MS);
    const res = await fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
    const body = NULL_BODY.has(res.status) ? null : await res.arrayBuffer();
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  },
  { preconnect: fetch.preconnect },
);
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * What an Octokit failure says: whether GitHub answered at all (Octokit reports no answer, a DNS failure or a refused
 * connection, as a 500 without a response), its status, its reason, and how long its rate limit holds (null: not
 * limited).
 */
export function githubFailure(e: unknown): { answered: boolean; status: number | undefined; reason: string; retryAfter: number | null } {
  const answered = Boolean((e as { response?: unknown }).response);
  const status = (e as { status?: number }).status;
  const headers = ((e as { response?: { headers?: Record<string, string> } }).response?.headers ?? {}) as Record<string, string>;
  const reason = (e as { response?: { data?: { message?: string } } }).response?.data?.message ?? (e as Error).message;
  let retryAfter: number | null = null;
  if (status === 429 || (status === 403 && headers["x-ratelimit-remaining"] === "0")) {
    const reset = Number(headers["x-ratelimit-reset"]);
    retryAfter = Number.isFinite(reset) ? Math.max(1, reset - Math.floor(Date.now() / 1000)) : 60;
  }
  return { answered, status, reason, retryAfter };
}

/**
 * GitHub answered 200 with something that is not what its API returns (a proxy's page, another server at
 * CLANKER_GITHUB_API_URL): refused, so nothing is stored or shown from it.
 */
function unexpectedAnswer(what: string): ApiError {
  return new ApiError("overloaded_error", `GitHub's answer to ${what} is not what its API returns: check that CLANKER_GITHUB_API_URL is GitHub's API (https://api.github.com, or https://HOST/api/v3 for Enterprise), then retry`, { code: "CONNECTOR_UPSTREAM_ERROR" });
}

/** GitHub's failures as our typed errors; `what` names the thing a 404 did not find. A GitHub outage is a 503. */
export function githubError(e: unknown, what: { entity: string; id: string } | null = null): never {
  if (e instanceof ApiError) throw e;
  // Octokit reports every failed request, unanswered ones too, with a status. A TypeError without one came from
  // reading an answer GitHub's API would not give (paging through a body that is not a list); a connection cut
  // mid-body still reads as unreachable, below.
  if (e instanceof TypeError && typeof (e as { status?: unknown }).status !== "number" && !(e as { code?: unknown }).code) throw unexpectedAnswer("this request");
  const { answered, status, reason, retryAfter } = githubFailure(e);
  if (!answered)
    throw new ApiError("overloaded_error", `Could not reach GitHub (${reason}): check CLANKER_GITHUB_API_URL and this server's network, then retry`, { code: "CONNECTOR_UPSTREAM_ERROR" });
  if (status === 401) throw new InvalidRequestError("GitHub refused the token (revoked or expired?): connect again", "token", "CONNECTOR_AUTH_FAILED");
  if (status === 404 && what) throw new NotFoundError(what.entity, what.id);
  if (retryAfter !== null) throw new RateLimitError("GitHub's rate limit is exhausted for this token; try again later", retryAfter);
  if (status === 403) throw new ApiError("permission_error", "GitHub refused access with this token", { code: "CONNECTOR_FORBIDDEN" });
  throw new ApiError(status && status < 500 ? "invalid_request_error" : "overloaded_error", `GitHub answered ${status ?? "nothing"}: ${reason}`, { code: "CONNECTOR_UPSTREAM_ERROR" });
}

/** A 404 from the contents API: the repository, the ref or the path is not there (or not for this token). */
function contentError(e: unknown, source: string, path: string, ref: string | null | undefined): never {
  const { answered, status, reason } = githubFailure(e);
  if (!answered || status !== 404) githubError(e);
  const err = new NotFoundError("path");
  err.message = `GitHub has nothing at ${path ? `'${path}'` : "the top"} of ${source}${ref ? ` at ref '${ref}'` : ""} (GitHub: ${reason}): check the repository's name and that this token can read it, the ref and the path`;
  throw err;
}

function split(source: string): { owner: string; repo: string } {
  if (!isRepoName(source)) throw new InvalidRequestError("A GitHub source is 'owner/repo'", "source");
  const [owner, repo] = source.split("/") as [string, string];
  return { owner, repo };
}

const tokenOf = (ctx: ConnectorContext): string => {
  const t = ctx.credentials?.token;
  if (!t) throw new InvalidRequestError("Connect github first", "connector", "CONNECTOR_NOT_CONNECTED");
  return t;
};

async function accountOf(config: Config, token: string): Promise<string> {
  try {
    const { data } = await octokitFor(config, token).rest.users.getAuthenticated();
    if (!isJsonObject(data) || typeof data.login !== "string" || !data.login) throw unexpectedAnswer("who the token belongs to");
    return data.login;
  } catch (e) {
    githubError(e);
  }
}

/** The `page` of the Link header's rel="next", or null. */
export function nextPage(link: string | undefined): string | null {
  const m = /<([^>]+)>;\s*rel="next"/.exec(link ?? "");
  return m ? new URL(m[1]!).searchParams.get("page") : null;
}

export const githubProvider: ConnectorProvider = {
  id: "github",
  name: "GitHub",
  description: "Repositories of a GitHub or GitHub Enterprise account, with a token or the OAuth web flow",
  needsConnection: true,
  configured: () => ({ ok: true }),

  async connect(ctx, input) {
    if (input.token !== undefined) {
      const token = input.token.trim();
      if (!token) throw new InvalidRequestError("token must not be blank", "token");
      // It goes in a header: a character that cannot (a pasted "…", a typographic quote) was a 503 "could not reach GitHub".
      if (!/^[\x21-\x7e]+$/.test(token)) throw new InvalidRequestError("token has a character a header cannot carry (a space, an ellipsis, a typographic quote): paste the token itself, ghp_… or github_pat_…", "token");
      return { connected: { account: await accountOf(ctx.config, token), credentials: { token } } };
    }
    const c = ctx.config.connectors;
    if (!c.githubClientId) throw new InvalidRequestError("Give a GitHub token, or set CLANKER_GITHUB_CLIENT_ID and _SECRET for the OAuth web flow", "token");
    const q = new URLSearchParams({ client_id: c.githubClientId, redirect_uri: input.redirectUri!, state: input.state!, scope: "repo" });
    return { url: `${c.githubOAuthUrl}/login/oauth/authorize?${q}` };
  },

  async completeOAuth(ctx, { code, redirectUri }) {
    const c = ctx.config.connectors;
    let body: { access_token?: string; error?: string; error_description?: string };
    try {
      // Through the one guarded fetch (DESIGN.md): no redirect followed with the client secret, metadata hosts
      // refused. The URL is the operator's (CLANKER_GITHUB_OAUTH_URL), so a private address (an Enterprise host) is theirs to name.
      const res = await guardedFetch(
        `${c.githubOAuthUrl}/login/oauth/access_token`,
        {
          method: "POST",
          headers: { accept: "application/json", "content-type": "application/json" },
          body: JSON.stringify({ client_id: c.githubClientId, client_secret: c.githubClientSecret, code, redirect_uri: redirectUri }),
        },
        { allowPrivate: true, timeoutMs: 15_000 },
      );
      body = (await res.json()) as typeof body;
    } catch (e) {
      throw new ApiError("api_error", `GitHub's token endpoint failed: ${(e as Error).message}`, { code: "OAUTH_EXCHANGE_FAILED" });
    }
    if (!body.access_token) throw new InvalidRequestError(`GitHub refused the code: ${body.error_description ?? body.error ?? "no token"}`, "code", "OAUTH_EXCHANGE_FAILED");
    return { account: await accountOf(ctx.config, body.access_token), credentials: { token: body.access_token } };
  },

  async listSources(ctx, page) {
    const pageNo = page.cursor === null ? 1 : Number(page.cursor);
    if (!Number.isInteger(pageNo) || pageNo < 1) throw new InvalidRequestError("cursor is not one this server gave", "cursor");
    try {
      const r = await octokitFor(ctx.config, tokenOf(ctx)).rest.repos.listForAuthenticatedUser({ per_page: page.limit, page: pageNo, sort: "full_name" });
      if (!Array.isArray(r.data) || !r.data.every((x) => isJsonObject(x) && typeof x.full_name === "string")) throw unexpectedAnswer("the list of repositories");
      return {
        data: r.data.map((x) => ({ id: x.full_name, name: x.full_name, description: x.description, defaultBranch: x.default_branch ?? null, private: x.private, url: x.html_url })),
        nextCursor: nextPage(r.headers.link),
      };
    } catch (e) {
      githubError(e);
    }
  },

  async listBranches(ctx, source) {
    const { owner, repo } = split(source);
    const gh = octokitFor(ctx.config, tokenOf(ctx));
    try {
      const [{ data: info }, branches] = await Promise.all([gh.rest.repos.get({ owner, repo }), gh.paginate(gh.rest.repos.listBranches, { owner, repo, per_page: 100 })]);
      if (!isJsonObject(info) || !Array.isArray(branches) || !branches.every((b) => isJsonObject(b) && typeof b.name === "string" && isJsonObject(b.commit) && typeof b.commit.sha === "string"))
        throw unexpectedAnswer(`the branches of ${source}`);
      return branches.map((b) => ({ name: b.name, sha: b.commit.sha, default: b.name === info.default_branch }));
    } catch (e) {
      githubError(e, { entity: "source", id: source });
    }
  },

  async content(ctx, source, { path, ref, maxBytes }): Promise<SourceContent> {
    const { owner, repo } = split(source);
    const p = safeSegments(path).join("/");
    const gh = octokitFor(ctx.config, tokenOf(ctx));
    let data: unknown;
    try {
      data = (await gh.rest.repos.getContent({ owner, repo, path: p, ...(ref ? { ref } : {}) })).data;
    } catch (e) {
      contentError(e, source, p, ref);
    }
    if (Array.isArray(data) ? !data.every((x) => isJsonObject(x) && typeof x.name === "string" && typeof x.type === "string") : !isJsonObject(data) || typeof data.type !== "string")
      throw unexpectedAnswer(`${p || "the top"} of ${source}`);
    if (Array.isArray(data)) {
      const entries = (data as { name: string; type: string; size: number }[]).map((x) => ({
        name: x.name,
        type: (["file", "dir", "symlink", "submodule"].includes(x.type) ? x.type : "file") as "file" | "dir" | "symlink" | "submodule",
        size: x.type === "dir" ? null : x.size,
      }));
      return { type: "dir", path: p, ref, entries };
    }
    const f = data as { type: string; size: number; content?: string; encoding?: string };
    // GitHub follows a symlink that stays inside the repository; one it answers as a symlink points elsewhere.
    if (f.type === "symlink") throw outside();
    if (f.type !== "file") throw new InvalidRequestError(`${p} is a ${f.type}; read it as its own source`, "path");
    if (f.size > maxBytes) throw tooLarge(p, f.size, maxBytes);
    if (f.encoding === "base64" && f.content !== undefined) return fileContent(p, ref, Buffer.from(f.content, "base64"), maxBytes);
    // Files over 1 MB come without content: ask for the raw bytes.
    try {
      const raw = await gh.request("GET /repos/{owner}/{repo}/contents/{path}", { owner, repo, path: p, ...(ref ? { ref } : {}), mediaType: { format: "raw" }, request: { parseSuccessResponseBody: false } });
      const bytes = new Uint8Array(await new Response(raw.data as unknown as ReadableStream).arrayBuffer());
      return fileContent(p, ref, bytes, maxBytes);
    } catch (e) {
      contentError(e, source, p, ref);
    }
  },
};
