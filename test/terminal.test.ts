// stdoutIsTerminal() (src/lib/terminal.ts) decides pretty logs and coloured help without process.stdout: a terminal
// says true; a pipe, a file and /dev/null (a service manager's stdout, a spawn that ignores it) say false.
import { describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const MODULE = resolve(import.meta.dir, "../src/lib/terminal.ts");
const LOG_MODULE = resolve(import.meta.dir, "../src/lib/log.ts");
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

// What a pseudo-terminal shows of one pretty log line, with the environment given.
async function prettyLineOnTerminal(env: Record<string, string>): Promise<string> {
  const code = `import { createLog } from ${JSON.stringify(LOG_MODULE)}; createLog({ level: "info", format: "pretty" }).error("hello");`;
  const p = Bun.spawn(["script", "-qec", `${process.execPath} --eval '${code}'`, "/dev/null"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return out;
}

describe("pretty logs on a terminal", () => {
  test.skipIf(!hasScript)("are coloured, unless NO_COLOR is set (no-color.org)", async () => {
    const coloured = await prettyLineOnTerminal({});
    expect(coloured).toContain("hello");
    expect(coloured).toMatch(/\x1b\[[0-9;]*m/);
    const plain = await prettyLineOnTerminal({ NO_COLOR: "1" });
    expect(plain).toContain("ERROR");
    expect(plain).toContain("hello");
    expect(plain).not.toMatch(/\x1b\[[0-9;]*m/);
    // An empty NO_COLOR is as if unset.
    expect(await prettyLineOnTerminal({ NO_COLOR: "" })).toMatch(/\x1b\[[0-9;]*m/);
  });
});
