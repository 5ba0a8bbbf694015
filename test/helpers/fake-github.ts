// A fake GitHub on 127.0.0.1 speaking the real REST shapes, so Octokit runs unchanged: /user, /user/repos and
// branches with Link pagination, contents (file, dir, symlink, raw) at a branch or commit, repos, issues and issue
// comments (on issues and pull requests), and the OAuth web flow (GET /login/oauth/authorize redirects back with a
// code; POST /login/oauth/access_token).

export type FakeFile = string | Uint8Array | { symlink: string };

export interface FakeRepo {
  defaultBranch?: string;
  private?: boolean;
  /** branch → path → content */
  branches: Record<string, Record<string, FakeFile>>;
  /** commit sha → path → content: refs that are commits, not branches (a pull request's head). */
  commits?: Record<string, Record<string, FakeFile>>;
  /** Open pull request numbers: GitHub comments on a PR through the issues API, as on an issue. */
  pulls?: number[];
}

export interface FakeGithubOptions {
  /** token → login */
  tokens: Record<string, string>;
  repos: Record<string, FakeRepo>;
  clientId?: string;
  clientSecret?: string;
}

export interface FakeGithub {
  url: string;
  requests: { method: string; path: string; authorization: string | null; body: any }[];
  issues: { repo: string; number: number; title: string; body: string; login: string }[];
  comments: { repo: string; number: number; body: string; login: string }[];
  /** Makes a code the token endpoint will exchange for `token` (what authorize does after a person agrees). */
  issueCode(token: string): string;
  /** Repository webhooks: an issue opened through the API is delivered to each (`issues`/`opened`, signed), as GitHub does. */
  hooks: { repo: string; url: string; secret: string }[];
  /** What each delivery was answered. */
  deliveries: { number: number; status: number; body: any }[];
  stop(): void;
}

const json = (v: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
const notFound = () => json({ message: "Not Found", documentation_url: "https://docs.github.com/rest" }, 404);

export function startFakeGithub(opts: FakeGithubOptions): FakeGithub {
  const requests: FakeGithub["requests"] = [];
  const issues: FakeGithub["issues"] = [];
  const comments: FakeGithub["comments"] = [];
  const codes = new Map<string, string>();
  let codeSeq = 0;
  const hooks: FakeGithub["hooks"] = [];
  const deliveries: FakeGithub["deliveries"] = [];
  /** After the API's answer, as GitHub delivers: signed with the hook's secret (X-Hub-Signature-256). */
  const deliverOpened = (full: string, issue: Record<string, unknown>, login: string) =>
    setTimeout(async () => {
      for (const h of hooks.filter((x) => x.repo === full)) {
        const body = JSON.stringify({ action: "opened", issue: { ...issue, user: { login } }, repository: { full_name: full }, sender: { login } });
        const sig = new Bun.CryptoHasher("sha256", h.secret).update(body).digest("hex");
        const r = await fetch(h.url, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": crypto.randomUUID(), "x-hub-signature-256": `sha256=${sig}` },
        });
        deliveries.push({ number: Number(issue.number), status: r.status, body: await r.json().catch(() => null) });
      }
    }, 0);
  const issueCode = (token: string) => {
    const code = `code_${++codeSeq}_${Math.random().toString(36).slice(2)}`;
    codes.set(code, token);
    return code;
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const u = new URL(req.url);
      const path = decodeURIComponent(u.pathname);
      const authorization = req.headers.get("authorization");
      const raw = req.method === "POST" ? await req.text() : "";
      let body: any = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = Object.fromEntries(new URLSearchParams(raw));
      }
      requests.push({ method: req.method, path: u.pathname + u.search, authorization, body });

      // OAuth web flow (on the "github.com" side).
      if (req.method === "GET" && path === "/login/oauth/authorize") {
        const redirect = new URL(u.searchParams.get("redirect_uri")!);
        if (u.searchParams.get("client_id") !== opts.clientId) return new Response("unknown client", { status: 400 });
        redirect.searchParams.set("code", issueCode(Object.keys(opts.tokens)[0]!));
        redirect.searchParams.set("state", u.searchParams.get("state") ?? "");
        return new Response(null, { status: 302, headers: { location: redirect.toString() } });
      }
      if (req.method === "POST" && path === "/login/oauth/access_token") {
        if (body?.client_id !== opts.clientId || body?.client_secret !== opts.clientSecret) return json({ error: "incorrect_client_credentials" });
        const token = codes.get(body?.code);
        if (!token) return json({ error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
        codes.delete(body.code);
        return json({ access_token: token, token_type: "bearer", scope: "repo" });
      }

      const token = /^(?:token|bearer)\s+(.+)$/i.exec(authorization ?? "")?.[1];
      const login = token ? opts.tokens[token] : undefined;
      if (token === "ghp_ratelimited")
        return json({ message: "API rate limit exceeded" }, 403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 30) });
      if (!login) return json({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest" }, 401);

      const page = <T>(items: T[]) => {
        const per = Math.min(100, Number(u.searchParams.get("per_page") ?? 30));
        const n = Number(u.searchParams.get("page") ?? 1);
        const last = Math.max(1, Math.ceil(items.length / per));
        const link = (p: number, rel: string) => {
          const l = new URL(u);
          l.searchParams.set("page", String(p));
          return `<${l}>; rel="${rel}"`;
        };
        const links = [...(n < last ? [link(n + 1, "next"), link(last, "last")] : []), ...(n > 1 ? [link(1, "first"), link(n - 1, "prev")] : [])];
        return json(items.slice((n - 1) * per, n * per), 200, links.length ? { link: links.join(", ") } : {});
      };
      const repoJson = (full: string, r: FakeRepo) => ({
        id: full.length,
        name: full.split("/")[1],
        full_name: full,
        owner: { login: full.split("/")[0] },
        private: r.private ?? false,
        description: `The ${full} repository`,
        html_url: `https://github.example/${full}`,
        default_branch: r.defaultBranch ?? "main",
      });

      if (req.method === "GET" && path === "/user") return json({ login, id: 1, type: "User" });
      if (req.method === "GET" && path === "/user/repos") return page(Object.entries(opts.repos).map(([k, r]) => repoJson(k, r)));

      const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
      if (!m) return notFound();
      const full = `${m[1]}/${m[2]}`;
      const repo = opts.repos[full];
      if (!repo) return notFound();
      const rest = m[3] ?? "";
      if (req.method === "GET" && rest === "") return json(repoJson(full, repo));
      if (req.method === "GET" && rest === "/branches")
        return page(Object.keys(repo.branches).map((name) => ({ name, commit: { sha: sha(full + name) }, protected: false })));
      if (req.method === "POST" && rest === "/issues") {
        if (!body?.title) return json({ message: "Validation Failed", errors: [{ field: "title", code: "missing_field" }] }, 422);
        const number = issues.filter((i) => i.repo === full).length + 1;
        issues.push({ repo: full, number, title: body.title, body: body.body ?? "", login });
        const issue = { id: 1000 + number, number, title: body.title, body: body.body ?? "", state: "open", html_url: `https://github.example/${full}/issues/${number}` };
        deliverOpened(full, issue, login);
        return json(issue, 201);
      }
      const c = /^\/issues\/(\d+)\/comments$/.exec(rest);
      if (req.method === "POST" && c) {
        const number = Number(c[1]);
        if (!issues.some((i) => i.repo === full && i.number === number) && !repo.pulls?.includes(number)) return notFound();
        comments.push({ repo: full, number, body: body?.body ?? "", login });
        return json({ id: 5000 + comments.length, body: body?.body ?? "", html_url: `https://github.example/${full}/issues/${number}#issuecomment-${5000 + comments.length}` }, 201);
      }
      const ct = /^\/contents(?:\/(.*))?$/.exec(rest);
      if (req.method === "GET" && ct) {
        const ref = u.searchParams.get("ref") ?? repo.defaultBranch ?? "main";
        const files = repo.branches[ref] ?? repo.commits?.[ref];
        if (!files) return json({ message: "No commit found for the ref" }, 404);
        const p = (ct[1] ?? "").replace(/\/+$/, "");
        const f = files[p];
        if (f !== undefined) {
          if (typeof f === "object" && "symlink" in f) return json({ type: "symlink", name: p.split("/").pop(), path: p, target: f.symlink, size: f.symlink.length });
          const bytes = typeof f === "string" ? Buffer.from(f) : Buffer.from(f);
          if ((req.headers.get("accept") ?? "").includes("raw")) return new Response(bytes, { headers: { "content-type": "application/vnd.github.raw" } });
          // Like GitHub: over 1 MB the content is left out (encoding "none").
          const big = bytes.length > 1024 * 1024;
          return json({ type: "file", name: p.split("/").pop(), path: p, size: bytes.length, encoding: big ? "none" : "base64", content: big ? "" : bytes.toString("base64").replace(/(.{60})/g, "$1\n"), sha: sha(p) });
        }
        const prefix = p ? `${p}/` : "";
        const children = new Map<string, { type: string; size: number }>();
        for (const [k, v] of Object.entries(files)) {
          if (!k.startsWith(prefix)) continue;
          const [head, ...tail] = k.slice(prefix.length).split("/");
          const size = typeof v === "object" && "symlink" in v ? v.symlink.length : typeof v === "string" ? Buffer.byteLength(v) : v.length;
          children.set(head!, tail.length ? { type: "dir", size: 0 } : { type: typeof v === "object" && "symlink" in v ? "symlink" : "file", size });
        }
        if (!children.size) return notFound();
        return json([...children].sort(([a], [b]) => a.localeCompare(b)).map(([name, x]) => ({ name, path: prefix + name, type: x.type, size: x.size, sha: sha(prefix + name) })));
      }
      return notFound();
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, issues, comments, issueCode, hooks, deliveries, stop: () => server.stop(true) };
}

const sha = (s: string) => new Bun.CryptoHasher("sha1").update(s).digest("hex");

/** The server's environment pointing GitHub's API and OAuth at this fake, with the OAuth app it knows. */
export function githubOAuthEnv(gh: FakeGithub, clientId: string, clientSecret: string): Record<string, string> {
  return { CLANKER_GITHUB_API_URL: gh.url, CLANKER_GITHUB_OAUTH_URL: gh.url, CLANKER_GITHUB_CLIENT_ID: clientId, CLANKER_GITHUB_CLIENT_SECRET: clientSecret };
}
