// The `remote` connector: git repositories at URLs a workspace added (connect-connector {"connector":"remote",
// "url":…}). https URLs are cloned shallowly through the SSRF-guarded client into an owner-only cache under the
// data dir and refreshed after a TTL; file:// URLs must lie inside CLANKER_LOCAL_SOURCES and are read in place.
import { randomBytes, sha256Hex } from "../../../lib/crypto";
import * as fs from "node:fs";
import { basename, join, sep } from "node:path";
import { isoGit } from "./iso-git";
import type { Config } from "../../../config";
import { ApiError, InvalidRequestError, NotFoundError, RateLimitError } from "../../../lib/errors";
import { urlProblem } from "../../../lib/outbound";
import type { ConnectorContext, ConnectorProvider, Source } from "../provider";
import { gitBranches, gitContent, isGitRepo, safeSegments } from "./git-reader";
import { guardedGitHttp } from "./git-http";
import { inTurn } from "../../../lib/one-at-a-time";

/** How many remote sources one workspace may add. */
export const MAX_REMOTE_SOURCES = 50;

interface Stored {
  url: string;
  addedAt: string;
}

const refused = (why: string) => new InvalidRequestError(`This URL may not be read: ${why}`, "url", "SOURCE_URL_REFUSED");

/** The URL as the source's id, checked without touching the network: scheme, SSRF rules, file:// roots. */
export function checkRemoteUrl(ctx: Pick<ConnectorContext, "config" | "readsServerFolders">, raw: string): { url: string; file: string | null } {
  const config = ctx.config;
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new InvalidRequestError("url must be an absolute git URL (https://…, or file://… inside a local source root)", "url", "SOURCE_URL_INVALID");
  }
  u.hash = "";
  if (u.protocol === "file:") {
    // Checked when read too, not only when added: the server's owner may since have left the workspace.
    if (!ctx.readsServerFolders) throw refused("file:// URLs read this server's own folders, shared with the workspaces its owner is a member of");
    return { url: u.href, file: fileRepo(config, u) };
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw refused(`${u.protocol} URLs are not supported; use https`);
  const allowPrivate = config.webhooks.allowPrivate;
  if (u.protocol === "http:" && !allowPrivate) throw refused("plain http is allowed only where private targets are (CLANKER_WEBHOOK_ALLOW_PRIVATE); use https");
  const problem = urlProblem(u.href, allowPrivate);
  if (problem) throw refused(`the URL ${problem}`);
  return { url: u.href, file: null };
}

/**
 * A file:// URL's repository: only inside a CLANKER_LOCAL_SOURCES root (after symlinks), so the URL reaches
 * nothing the operator has not already shared; anything else on the server's disk is refused.
 */
function fileRepo(config: Config, u: URL): string {
  if (u.hostname && u.hostname !== "localhost") throw refused("a file:// URL names no host");
  const roots = config.connectors.localSources;
  if (!roots.length) throw refused("file:// URLs are allowed only inside CLANKER_LOCAL_SOURCES, and none are set");
  let real: string;
  try {
    real = fs.realpathSync(Bun.fileURLToPath(u));
  } catch {
    throw refused("no such folder inside the local source roots");
  }
  const inside = roots.some((r) => {
    try {
      const root = fs.realpathSync(r);
      return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
    } catch {
      return false;
    }
  });
  if (!inside) throw refused("file:// URLs are allowed only inside CLANKER_LOCAL_SOURCES");
  if (!fs.statSync(real).isDirectory() || !isGitRepo(real)) throw new InvalidRequestError("This folder is not a git repository", "url", "SOURCE_NOT_A_REPOSITORY");
  return real;
}

/** The remote sources a workspace added, from its connector settings. */
export const storedOf = (settings: Record<string, unknown>): Stored[] => (Array.isArray(settings.sources) ? (settings.sources as Stored[]) : []);

const sourceView = (s: Stored): Source => ({
  id: s.url,
  name: basename(new URL(s.url).pathname).replace(/\.git$/, "") || new URL(s.url).host,
  description: `git repository at ${s.url}`,
  defaultBranch: null,
  url: s.url,
});

function findStored(stored: Stored[], id: string): Stored | undefined {
  let href = id;
  try {
    href = new URL(id.trim()).href; // a run may name the URL as it was typed
  } catch {}
  return stored.find((x) => x.url === id || x.url === href);
}

/** Whether the workspace has added the remote source `id` (its URL, as typed or as stored). */
export const hasRemoteSource = (settings: Record<string, unknown>, id: string): boolean => findStored(storedOf(settings), id) !== undefined;

/** The workspace's source by id (its URL), checked again: the roots and the SSRF switch may have changed. */
function sourceOf(ctx: ConnectorContext, id: string) {
  const s = findStored(storedOf(ctx.settings), id);
  if (!s) throw new NotFoundError("source", id);
  return checkRemoteUrl(ctx, s.url);
}

// One cache folder per URL; what was fetched when, and the transfer in flight that readers of the URL share.
const clones = new Map<string, { fetchedAt: number; pending: Promise<void> | null }>();
/**
 * isomorphic-git holds a whole pack in memory while it clones (a 30 MB repository: ~230 MB of RSS): transfers go one
 * at a time, server-wide, so a few adds at once cannot run the server out of memory; the others wait their turn.
 */
const inTransferTurn = inTurn();

/**
 * Transfers a workspace has waiting or under way. The turn is server-wide, so a workspace that queued many (each to a
 * server that never answers, its callers long gone) made every other workspace's fetch wait a timeout for each.
 */
const queued = new Map<number | null, number>();
const MOST_QUEUED_PER_WORKSPACE = 2;

async function queuedFor<T>(workspaceId: number | null, timeoutMs: number, task: () => Promise<T>): Promise<T> {
  const n = queued.get(workspaceId) ?? 0;
  if (n >= MOST_QUEUED_PER_WORKSPACE)
    throw new RateLimitError(`This workspace already has ${n} repositories being fetched: retry once they are done`, Math.max(1, Math.ceil(timeoutMs / 1000)));
  queued.set(workspaceId, n + 1);
  try {
    return await task();
  } finally {
    const left = (queued.get(workspaceId) ?? 1) - 1;
    if (left > 0) queued.set(workspaceId, left);
    else queued.delete(workspaceId);
  }
}

/** The clone of `url`, fetched when missing or older than the TTL; concurrent readers share one transfer. */
export async function cloneOf(ctx: ConnectorContext, url: string): Promise<string> {
  const dir = join(ctx.cacheDir, "remote", sha256Hex(url).slice(0, 32));
  const known = clones.get(dir);
  if (known?.pending) {
    await known.pending;
    return dir;
  }
  const have = isGitRepo(dir);
  if (have && known && Date.now() - known.fetchedAt < ctx.config.connectors.remoteTtlSeconds * 1000) return dir;
  const pending = queuedFor(ctx.workspaceId, ctx.config.connectors.remoteTimeoutMs, () => inTransferTurn(() => transfer(ctx, url, dir, have)));
  clones.set(dir, { fetchedAt: known?.fetchedAt ?? 0, pending });
  try {
    await pending;
    clones.set(dir, { fetchedAt: Date.now(), pending: null });
  } catch (e) {
    clones.delete(dir);
    throw e;
  }
  return dir;
}

async function transfer(ctx: ConnectorContext, url: string, dir: string, have: boolean): Promise<void> {
  const c = ctx.config.connectors;
  const { http, transfer: t } = guardedGitHttp({ allowPrivate: ctx.config.webhooks.allowPrivate, timeoutMs: c.remoteTimeoutMs, maxBytes: c.remoteMaxBytes });
  // A first clone lands in a fresh folder renamed into place, so a failed one leaves nothing half-made.
  const work = have ? dir : `${dir}.tmp-${randomBytes(6).toString("hex")}`;
  fs.mkdirSync(join(ctx.cacheDir, "remote"), { recursive: true, mode: 0o700 });
  try {
    const shallow = { fs, http, dir: work, depth: 1, singleBranch: false, tags: false } as const;
    if (have) await (await isoGit()).fetch({ ...shallow, prune: true });
    else await (await isoGit()).clone({ ...shallow, url, noCheckout: true, noTags: true });
    await localBranches(work);
    if (!have) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(work, dir);
    }
  } catch (e) {
    if (!have) fs.rmSync(work, { recursive: true, force: true });
    if (t.tooLarge)
      throw new ApiError("request_too_large", `${url} is larger than this server clones (CLANKER_REMOTE_MAX_BYTES = ${c.remoteMaxBytes} bytes)`, { code: "REMOTE_TOO_LARGE", param: "url" });
    if (t.refused) throw refused(t.refused);
    if (t.timedOut) throw new InvalidRequestError(`Fetching ${url} took longer than CLANKER_REMOTE_TIMEOUT_MS (${c.remoteTimeoutMs} ms)`, "url", "REMOTE_TIMEOUT");
    const status = (e as { data?: { statusCode?: number } }).data?.statusCode;
    // isomorphic-git quotes what a server that is not git sent: not echoed (the URL may name any service this server
    // reaches, and an admin could read its pages so), only said.
    const why = (e as { code?: string }).code === "SmartHttpError" ? "it does not answer as a git server (git's smart HTTP)" : (e as Error).message;
    throw new InvalidRequestError(`Could not fetch ${url}${status ? ` (HTTP ${status})` : ""}: ${why}`, "url", "REMOTE_FETCH_FAILED");
  }
}

/** The fetched branches (refs/remotes/origin/*) as local ones, so the repository reads exactly like `local`. */
async function localBranches(dir: string): Promise<void> {
  const remote = (await (await isoGit()).listBranches({ fs, dir, remote: "origin" })).filter((b) => b !== "HEAD");
  for (const name of remote) {
    const oid = await (await isoGit()).resolveRef({ fs, dir, ref: `refs/remotes/origin/${name}` });
    await (await isoGit()).writeRef({ fs, dir, ref: `refs/heads/${name}`, value: oid, force: true });
  }
  const current = await (await isoGit()).currentBranch({ fs, dir }).catch(() => undefined);
  for (const name of await (await isoGit()).listBranches({ fs, dir })) {
    if (!remote.includes(name) && name !== current) await (await isoGit()).deleteRef({ fs, dir, ref: `refs/heads/${name}` });
  }
}

async function repoDir(ctx: ConnectorContext, source: string): Promise<string> {
  const s = sourceOf(ctx, source);
  return s.file ?? cloneOf(ctx, s.url);
}

export const remoteProvider: ConnectorProvider = {
  id: "remote",
  name: "Remote git repositories",
  description: "Any git repository by URL (https; file:// inside the local source roots), cloned shallowly and read at any branch",
  needsConnection: true,
  configured: () => ({ ok: true }),

  /** Adds a URL to the workspace's sources once it has been fetched (or found, for file://) successfully. */
  async connect(ctx, input) {
    if (input.url === undefined) throw new InvalidRequestError("Give the git repository's url", "url");
    const { url, file } = checkRemoteUrl(ctx, input.url);
    const stored = storedOf(ctx.settings);
    if (!stored.some((s) => s.url === url) && stored.length >= MAX_REMOTE_SOURCES)
      throw new InvalidRequestError(`A workspace may add at most ${MAX_REMOTE_SOURCES} remote sources; disconnect one first`, "url", "REMOTE_SOURCES_LIMIT");
    if (!file) await cloneOf(ctx, url);
    const entry: Stored = { url, addedAt: new Date().toISOString() };
    const add = (settings: Record<string, unknown>) => ({ ...settings, sources: [...(Array.isArray(settings.sources) ? (settings.sources as Stored[]) : []).filter((s) => s.url !== url), entry] });
    return { connected: { account: null, credentials: null, settingsFrom: add, source: sourceView(entry) } };
  },

  forgetSource(settings, source) {
    const stored = storedOf(settings);
    const s = findStored(stored, source);
    return s ? { ...settings, sources: stored.filter((x) => x !== s) } : null;
  },

  async listSources(ctx, page) {
    const all = storedOf(ctx.settings);
    const start = page.cursor === null ? 0 : Number(page.cursor);
    if (!Number.isInteger(start) || start < 0) throw new InvalidRequestError("cursor is not one this server gave", "cursor");
    return { data: all.slice(start, start + page.limit).map(sourceView), nextCursor: start + page.limit < all.length ? String(start + page.limit) : null };
  },

  async listBranches(ctx, source) {
    return gitBranches(await repoDir(ctx, source));
  },

  async content(ctx, source, { path, ref, maxBytes }) {
    const segs = safeSegments(path);
    return gitContent(await repoDir(ctx, source), segs, ref, maxBytes);
  },
};
