// stdoutIsTerminal() (src/lib/terminal.ts) decides pretty logs and coloured help without process.stdout: a terminal
// says true; a pipe, a file and /dev/null (a service manager's stdout, a spawn that ignores it) say false.
import { describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const MODULE = resolve(import.meta.dir, "../src/lib/terminal.ts");
// The answer goes to stderr: stdout is what is being asked about.
const probe = `import { stdoutIsTerminal } from ${JSON.stringify(MODULE)}; console.error("terminal=" + stdoutIsTerminal());`;

async function answer(stdout: "pipe" | "ignore" | number): Promise<string> {
  const p = Bun.spawn([process.execPath, "--eval", probe], { stdout, stderr: "pipe" });
  const err = await new Response(p.stderr).text();
  await p.exited;
  return err.trim();
}

const hasScript = Bun.which("script") !== null;

describe("stdoutIsTerminal", () => {
  test("a pipe, /dev/null and a file are not terminals", async () => {
    expect(await answer("pipe")).toBe("terminal=false");
    expect(await answer("ignore")).toBe("terminal=false");
    const dir = mkdtempSync(join(tmpdir(), "clanker-tty-"));
    try {
      const fd = openSync(join(dir, "out"), "w");
      expect(await answer(fd)).toBe("terminal=false");
      closeSync(fd);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // util-linux's script(1) runs the probe on a pseudo-terminal of its own.
  test.skipIf(!hasScript)("a pseudo-terminal is", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clanker-tty-"));
    try {
      const cmd = `${process.execPath} --eval '${probe}' 2>${join(dir, "err")}`;
      const p = Bun.spawn(["script", "-qec", cmd, "/dev/null"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      await p.exited;
      expect(readFileSync(join(dir, "err"), "utf8").trim()).toBe("terminal=true");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
