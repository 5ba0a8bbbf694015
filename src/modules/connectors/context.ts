// What a run that reads code gives the model: the source's tree, its README and the named paths, within a byte
// budget; the record of what was included and what was cut (and why) is kept on the execution.
import { ApiError } from "../../lib/errors";
import type { SourceContent } from "./provider";

export interface SourceContextRecord {
  connector: string;
  source: string;
  ref: string | null;
  budgetBytes: number;
  usedBytes: number;
  tree: { entries: number; truncated: boolean };
  included: { path: string; bytes: number }[];
  cut: { path: string; reason: "budget" | "too_large" | "binary" | "not_found" | "unreadable"; bytes?: number }[];
}

export type ReadContent = (path: string, ref: string | null) => Promise<SourceContent>;

const MAX_DIR_READS = 60;
const MAX_TREE_ENTRIES = 1000;
const SKIP_DIRS = new Set([".git", "node_modules", "vendor", "dist", "build", "target", "__pycache__"]);
const README_RE = /^readme(\.(md|markdown|txt|rst))?$/i;

/**
 * A name as the block shows it: a file named with a line break or a quote wrote lines of its own into the tree (a
 * forged `<file path="SECURITY.md">`), so those (and quotes, angle brackets, backslashes) are written as \uXXXX.
 */
const shown = (name: string): string => name.replace(/["<>\\\x00-\x1f\x7f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
/** A file's text cannot end its block or the source's early: `</file>` and `</source>` in it are written `<\/file>`. */
const CLOSING_TAG = /<\/(file|source)>/gi;

/** Files under `start` (a dir), breadth first, bounded; `dirs` counts directory reads across calls. */
async function walk(read: ReadContent, start: string, ref: string | null, budget: { dirs: number; entries: number }) {
  const files: { path: string; size: number | null }[] = [];
  const lines: string[] = [];
  let truncated = false;
  const queue = [start];
  while (queue.length) {
    if (budget.dirs >= MAX_DIR_READS || budget.entries >= MAX_TREE_ENTRIES) {
      truncated = true;
      break;
    }
    const dir = queue.shift()!;
    budget.dirs++;
    const c = await read(dir, ref);
    if (c.type !== "dir") break;
    for (const e of c.entries) {
      const p = dir ? `${dir}/${e.name}` : e.name;
      if (++budget.entries > MAX_TREE_ENTRIES) {
        truncated = true;
        break;
      }
      if (e.type === "dir") {
        lines.push(`${shown(p)}/`);
        if (!SKIP_DIRS.has(e.name)) queue.push(p);
      } else {
        lines.push(shown(p));
        if (e.type === "file") files.push({ path: p, size: e.size });
      }
    }
  }
  return { files, lines, truncated };
}

export async function gatherSourceContext(
  read: ReadContent,
  opts: { connector: string; source: string; ref: string | null; paths: string[] },
  budgetBytes: number,
): Promise<{ text: string; record: SourceContextRecord }> {
  const record: SourceContextRecord = { connector: opts.connector, source: opts.source, ref: opts.ref, budgetBytes, usedBytes: 0, tree: { entries: 0, truncated: false }, included: [], cut: [] };
  const counters = { dirs: 0, entries: 0 };
  const root = await read("", opts.ref);
  if (root.type !== "dir") throw new ApiError("invalid_request_error", "The source's root is not a directory", { code: "CONNECTOR_ERROR" });
  record.ref = root.ref;
  const tree = await walk(read, "", opts.ref, counters);
  // The tree takes at most a quarter of the budget: the files are what the model needs most.
  let treeText = "";
  for (const line of tree.lines) {
    if (Buffer.byteLength(treeText) + Buffer.byteLength(line) + 1 > budgetBytes / 4) {
      tree.truncated = true;
      break;
    }
    treeText += `${line}\n`;
    record.tree.entries++;
  }
  record.tree.truncated = tree.truncated;
  record.usedBytes += Buffer.byteLength(treeText);

  const wanted: string[] = [];
  const readme = root.entries.find((e) => e.type === "file" && README_RE.test(e.name));
  if (readme) wanted.push(readme.name);
  for (const p of opts.paths) {
    const clean = p.replace(/^\/+|\/+$/g, "");
    let c: SourceContent;
    try {
      c = await read(clean, opts.ref);
    } catch (e) {
      record.cut.push({ path: clean, reason: cutReason(e) });
      continue;
    }
    if (c.type === "file") wanted.push(clean);
    else wanted.push(...(await walk(read, clean, opts.ref, counters)).files.map((f) => f.path));
  }

  let files = "";
  for (const path of [...new Set(wanted)]) {
    let c: SourceContent;
    try {
      c = await read(path, opts.ref);
    } catch (e) {
      record.cut.push({ path, reason: cutReason(e) });
      continue;
    }
    if (c.type !== "file") continue;
    if (c.encoding === "base64") {
      record.cut.push({ path, reason: "binary", bytes: c.size });
      continue;
    }
    const block = `<file path="${shown(path)}">\n${c.content.replace(CLOSING_TAG, "<\\/$1>")}\n</file>\n`;
    const bytes = Buffer.byteLength(block);
    if (record.usedBytes + bytes > budgetBytes) {
      record.cut.push({ path, reason: "budget", bytes: c.size });
      continue;
    }
    record.usedBytes += bytes;
    record.included.push({ path, bytes: c.size });
    files += block;
  }

  const cutNote = record.cut.length ? `<cut>${record.cut.map((c) => `${shown(c.path)} (${c.reason})`).join(", ")}</cut>\n` : "";
  const text = `<source connector="${opts.connector}" name="${shown(opts.source)}" ref="${shown(record.ref ?? "")}">\n<tree${tree.truncated ? ' truncated="true"' : ""}>\n${treeText}</tree>\n${files}${cutNote}</source>`;
  return { text, record };
}

function cutReason(e: unknown): SourceContextRecord["cut"][number]["reason"] {
  if (e instanceof ApiError && e.type === "request_too_large") return "too_large";
  if (e instanceof ApiError && e.type === "not_found_error") return "not_found";
  return "unreadable";
}
