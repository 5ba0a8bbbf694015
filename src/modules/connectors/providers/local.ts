// The `local` connector: folders and git repositories on this server (CLANKER_LOCAL_SOURCES), the operator's to
// share. A root that is a repository or a plain folder is one source; a root holding repositories lists each.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { Config } from "../../../config";
import { InvalidRequestError, NotFoundError } from "../../../lib/errors";
import type { ConnectorProvider, Source } from "../provider";
import { gitBranches, gitContent, isGitRepo, safeSegments, treeContent } from "./git-reader";

interface LocalSource extends Source {
  dir: string;
  git: boolean;
}

/** Every source the roots hold, named by the root's folder name (and the repository's, inside a root). */
export function localSources(config: Config): LocalSource[] {
  const out: LocalSource[] = [];
  const taken = new Set<string>();
  const add = (id: string, dir: string, git: boolean) => {
    let unique = id;
    for (let n = 2; taken.has(unique); n++) unique = `${id}-${n}`;
    taken.add(unique);
    out.push({ id: unique, name: unique, dir, git, description: git ? "git repository" : "folder", defaultBranch: null, private: true, url: null });
  };
  for (const root of config.connectors.localSources) {
    if (!existsSync(root) || !statSync(root).isDirectory()) continue;
    const name = basename(root);
    if (isGitRepo(root)) {
      add(name, root, true);
      continue;
    }
    const repos = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && isGitRepo(join(root, e.name)));
    if (repos.length === 0) add(name, root, false);
    else for (const r of repos.sort((a, b) => a.name.localeCompare(b.name))) add(`${name}/${r.name}`, join(root, r.name), true);
  }
  return out;
}

function sourceOf(config: Config, id: string): LocalSource {
  const s = localSources(config).find((x) => x.id === id);
  if (!s) throw new NotFoundError("source", id);
  return s;
}

export const localProvider: ConnectorProvider = {
  id: "local",
  name: "Local sources",
  description: "Folders and git repositories on this server, listed by the operator in CLANKER_LOCAL_SOURCES",
  needsConnection: false,
  serverFolders: true,
  configured: (config) =>
    config.connectors.localSources.length ? { ok: true } : { ok: false, reason: "No local sources: the operator lists folders in CLANKER_LOCAL_SOURCES" },
  async connect() {
    // Nothing to store: the roots are the server's; connecting only says so.
    return { connected: { account: null, credentials: null } };
  },
  async listSources(ctx, page) {
    const all = localSources(ctx.config);
    const start = page.cursor === null ? 0 : Number(page.cursor);
    if (!Number.isInteger(start) || start < 0) throw new InvalidRequestError("cursor is not one this server gave", "cursor");
    const data = all.slice(start, start + page.limit).map(({ dir: _d, git: _g, ...s }) => s);
    return { data, nextCursor: start + page.limit < all.length ? String(start + page.limit) : null };
  },
  async listBranches(ctx, source) {
    const s = sourceOf(ctx.config, source);
    return s.git ? gitBranches(s.dir) : [];
  },
  async content(ctx, source, { path, ref, maxBytes }) {
    const s = sourceOf(ctx.config, source);
    const segs = safeSegments(path);
    if (s.git) return gitContent(s.dir, segs, ref, maxBytes);
    if (ref !== null) throw new InvalidRequestError(`${source} is a plain folder: it has no branches or refs`, "ref");
    return treeContent(s.dir, segs, maxBytes);
  },
};
