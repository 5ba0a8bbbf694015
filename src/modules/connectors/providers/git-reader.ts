// Reading a source on this server's disk: a git repository at a ref (isomorphic-git, so no git binary is
// needed) or a folder's working tree; paths are checked so that nothing outside the source's root is read.
import * as fs from "node:fs";
import { dirname, join, posix, sep } from "node:path";
import { isoGit } from "./iso-git";
import { ApiError, InvalidRequestError, NotFoundError } from "../../../lib/errors";
import type { Branch, SourceContent } from "../provider";

/** A path inside a source as its segments; `..`, absolute paths and NUL are refused (400). */
export function safeSegments(path: string): string[] {
  if (path.includes("\0")) throw new InvalidRequestError("path must not contain NUL", "path", "PATH_INVALID");
  if (path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:/.test(path))
    throw new InvalidRequestError("path must be relative to the source's root", "path", "PATH_OUTSIDE_SOURCE");
  const segs = path.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (segs.includes("..")) throw new InvalidRequestError("path must not contain '..'", "path", "PATH_OUTSIDE_SOURCE");
  return segs;
}

export const outside = () => new InvalidRequestError("path leads outside the source (a symlink out of its root)", "path", "PATH_OUTSIDE_SOURCE");

export function tooLarge(path: string, size: number, max: number): ApiError {
  return new ApiError("request_too_large", `${path} is ${size} bytes; files larger than ${max} bytes are not served (CLANKER_MAX_SOURCE_BYTES)`, {
    code: "SOURCE_FILE_TOO_LARGE",
    param: "path",
  });
}

/** A file's bytes as the API shows them: UTF-8 text, or base64 when it is binary. */
export function fileContent(path: string, ref: string | null, bytes: Uint8Array, max: number): SourceContent {
  if (bytes.byteLength > max) throw tooLarge(path, bytes.byteLength, max);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = isText(buf) ? buf.toString("utf8") : null;
  if (text !== null) return { type: "file", path, ref, size: buf.byteLength, content: text };
  return { type: "file", path, ref, size: buf.byteLength, content: buf.toString("base64"), encoding: "base64" };
}

function isText(buf: Buffer): boolean {
  if (buf.subarray(0, 8000).includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

/**
 * A folder with a repository of its own: a `.git` folder in it, not a link or a `gitdir:` file, and none of what git
 * reads through leading elsewhere (a linked objects or refs folder, an alternates file). isomorphic-git follows them
 * wherever they lead: a `.git` linked to a repository outside the local source roots served it.
 */
export function isGitRepo(dir: string): boolean {
  const git = join(dir, ".git");
  try {
    if (!fs.lstatSync(git).isDirectory()) return false;
    for (const name of ["objects", "refs", "HEAD", "packed-refs", "config", "objects/pack", "objects/info", "refs/heads"])
      if (fs.lstatSync(join(git, name), { throwIfNoEntry: false })?.isSymbolicLink()) return false;
    return !fs.existsSync(join(git, "objects", "info", "alternates"));
  } catch {
    return false;
  }
}

/** A repository's folder, checked again at each read: a `.git` swapped for a link after it was added is refused. */
function ownRepository(dir: string): string {
  if (!isGitRepo(dir)) throw new InvalidRequestError("This repository's .git is a link, a gitdir file or leads out of its folder: it is not served", "source", "PATH_OUTSIDE_SOURCE");
  return dir;
}

/** The repository's branches, the checked-out one marked default. */
export async function gitBranches(repo: string): Promise<Branch[]> {
  const dir = ownRepository(repo);
  const [names, current] = await Promise.all([(await isoGit()).listBranches({ fs, dir }), (await isoGit()).currentBranch({ fs, dir }).catch(() => undefined)]);
  return Promise.all(names.map(async (name) => ({ name, sha: await (await isoGit()).resolveRef({ fs, dir, ref: name }).catch(() => null), default: name === current })));
}

/** The commit a ref names: a branch, a tag, a full or abbreviated sha; HEAD when null. */
async function commitOf(dir: string, ref: string | null): Promise<string> {
  const r = ref ?? "HEAD";
  if (r.startsWith("-") || r.includes("..")) throw new InvalidRequestError("ref is not a valid git ref", "ref");
  try {
    return await (await isoGit()).resolveRef({ fs, dir, ref: r });
  } catch {}
  if (/^[0-9a-f]{4,40}$/i.test(r)) {
    try {
      return await (await isoGit()).expandOid({ fs, dir, oid: r.toLowerCase() });
    } catch {}
  }
  throw new NotFoundError("ref", r);
}

const TYPE_OF_MODE: Record<string, "file" | "dir" | "symlink" | "submodule"> = { "040000": "dir", "100644": "file", "100755": "file", "120000": "symlink", "160000": "submodule" };

/** A file or folder of the repository at ref; symlinks are followed only while they stay inside it. */
export async function gitContent(repo: string, segs: string[], ref: string | null, max: number, hops = 0): Promise<SourceContent> {
  const dir = ownRepository(repo);
  const commit = await commitOf(dir, ref);
  const shownRef = ref ?? (await (await isoGit()).currentBranch({ fs, dir }).catch(() => undefined)) ?? commit;
  // A sha may name a blob or a tree rather than a commit: that is no ref to read a source at.
  const { tree: rootTree } = await (await isoGit()).readTree({ fs, dir, oid: commit }).catch(() => {
    throw new NotFoundError("ref", ref ?? "HEAD");
  });
  let tree = rootTree;
  for (let i = 0; i < segs.length; i++) {
    const entry = tree.find((e) => e.path === segs[i]);
    const here = segs.slice(0, i + 1).join("/");
    if (!entry) throw new NotFoundError("path", segs.join("/"));
    const type = TYPE_OF_MODE[entry.mode] ?? "file";
    if (type === "symlink") {
      if (hops >= 8) throw new InvalidRequestError("too many symlinks", "path", "PATH_INVALID");
      const { blob } = await (await isoGit()).readBlob({ fs, dir, oid: entry.oid });
      const target = Buffer.from(blob).toString("utf8");
      if (posix.isAbsolute(target)) throw outside();
      const joined = posix.normalize(posix.join(posix.dirname(here), target, ...segs.slice(i + 1)));
      if (joined === ".." || joined.startsWith("../")) throw outside();
      return gitContent(dir, safeSegments(joined), ref, max, hops + 1);
    }
    if (i === segs.length - 1) {
      if (type === "dir") {
        tree = (await (await isoGit()).readTree({ fs, dir, oid: entry.oid })).tree;
        break;
      }
      if (type === "submodule") throw new InvalidRequestError(`${here} is a submodule; read it as its own source`, "path");
      const { blob } = await (await isoGit()).readBlob({ fs, dir, oid: entry.oid });
      return fileContent(here, shownRef, blob, max);
    }
    if (type !== "dir") throw new NotFoundError("path", segs.join("/"));
    tree = (await (await isoGit()).readTree({ fs, dir, oid: entry.oid })).tree;
  }
  return {
    type: "dir",
    path: segs.join("/"),
    ref: shownRef,
    entries: tree.map((e) => ({ name: e.path, type: TYPE_OF_MODE[e.mode] ?? "file", size: null })),
  };
}

/** A file or folder of a working tree; whatever the path resolves to (symlinks included) must lie in root. */
export function treeContent(root: string, segs: string[], max: number): SourceContent {
  if (segs.includes(".git")) throw new InvalidRequestError("a repository's .git folder is not served", "path", "PATH_OUTSIDE_SOURCE");
  const realRoot = fs.realpathSync(root);
  let real: string;
  try {
    real = fs.realpathSync(join(realRoot, ...segs));
  } catch {
    // A dangling link out of the root still says where it points: refuse it as outside, not missing.
    const lexical = join(realRoot, ...segs);
    try {
      const target = fs.readlinkSync(lexical);
      const abs = posix.isAbsolute(target) ? target : join(dirname(lexical), target);
      if (!within(realRoot, abs)) throw outside();
    } catch (e) {
      if (e instanceof ApiError) throw e;
    }
    throw new NotFoundError("path", segs.join("/"));
  }
  if (!within(realRoot, real)) throw outside();
  const path = segs.join("/");
  const st = fs.statSync(real);
  if (st.isDirectory()) {
    const entries = fs
      .readdirSync(real, { withFileTypes: true })
      .filter((e) => e.name !== ".git")
      // Pipes, devices and sockets are not listed (nor read, below): they are no content.
      .filter((e) => e.isFile() || e.isDirectory() || e.isSymbolicLink())
      .map((e) => {
        const type = e.isDirectory() ? ("dir" as const) : e.isSymbolicLink() ? ("symlink" as const) : ("file" as const);
        return { name: e.name, type, size: type === "file" ? fs.statSync(join(real, e.name)).size : null };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    return { type: "dir", path, ref: null, entries };
  }
  // A FIFO's read waits for a writer, on the thread that answers every request: one froze the whole server.
  if (!st.isFile()) throw new InvalidRequestError(`${path} is not a regular file (a pipe, a device or a socket): it is not served`, "path", "NOT_A_FILE");
  if (st.size > max) throw tooLarge(path, st.size, max);
  return fileContent(path, null, fs.readFileSync(real), max);
}

const within = (root: string, p: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
