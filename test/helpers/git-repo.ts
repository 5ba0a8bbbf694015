// Real git repositories made in a test with isomorphic-git (no git binary needed): files per branch, symlinks.
import * as fs from "node:fs";
import { dirname, join } from "node:path";
import git from "isomorphic-git";

const author = { name: "Test", email: "test@example.test" };

export type Files = Record<string, string | Uint8Array | { symlink: string }>;

async function writeAndCommit(dir: string, files: Files, message: string): Promise<string> {
  for (const [path, v] of Object.entries(files)) {
    const full = join(dir, path);
    fs.mkdirSync(dirname(full), { recursive: true });
    fs.rmSync(full, { force: true });
    if (typeof v === "object" && "symlink" in v) fs.symlinkSync(v.symlink, full);
    else fs.writeFileSync(full, v);
    await git.add({ fs, dir, filepath: path });
  }
  return git.commit({ fs, dir, message, author });
}

/** A repository at dir on branch `main` with `files`, plus one commit per extra branch (branched from main). */
export async function makeRepo(dir: string, files: Files, branches: Record<string, Files> = {}): Promise<{ main: string; branches: Record<string, string> }> {
  fs.mkdirSync(dir, { recursive: true });
  await git.init({ fs, dir, defaultBranch: "main" });
  const main = await writeAndCommit(dir, files, "initial");
  const out: Record<string, string> = {};
  for (const [name, extra] of Object.entries(branches)) {
    await git.branch({ fs, dir, ref: name, checkout: true });
    out[name] = await writeAndCommit(dir, extra, `on ${name}`);
    await git.checkout({ fs, dir, ref: "main", force: true });
  }
  return { main, branches: out };
}
