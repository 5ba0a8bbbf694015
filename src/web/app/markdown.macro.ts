// Runs at bundle time (bun build, and bun's transpiler from source): reads the browser builds of marked and
// DOMPurify from node_modules into one string literal, so the binary carries them and needs no asset files.
import { readFileSync } from "node:fs";
import { join } from "node:path";

// By path from the project's node_modules (marked's package exports do not name its browser build).
const fileOf = (pkg: string, path: string) => join(import.meta.dir, "../../../node_modules", pkg, path);
const read = (file: string) =>
  readFileSync(file, "utf8")
    // The map file is not served; a browser would only ask for it and log a 404.
    .replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");

export function markdownVendor(): string {
  const src = read(fileOf("dompurify", "dist/purify.min.js")) + "\n" + read(fileOf("marked", "lib/marked.umd.js"));
  // The text is inlined in a <script> block: anything that could end the block or enter the HTML parser's
  // escaped script states must not be in it.
  if (/<\/script|<script/i.test(src)) throw new Error("a Markdown vendor build contains a <script> tag: it cannot be inlined");
  return src;
}
