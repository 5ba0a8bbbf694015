// Whether stdout is a terminal (pretty logs, coloured help), asked without process.stdout, and whether to colour it.
import { fstatSync, statSync } from "node:fs";

/**
 * Bun builds process.stdout (and node:tty, for isatty) on first use: 3–7 ms of every server start, for one bit. A
 * terminal is a character device; so is /dev/null, which is what a service manager or a spawn with stdout ignored
 * gives, and is told apart by its device number.
 */
export function stdoutIsTerminal(): boolean {
  try {
    const out = fstatSync(1);
    return out.isCharacterDevice() && out.rdev !== statSync("/dev/null").rdev;
  } catch {
    return false;
  }
}

/** Colour only for a terminal, and never when NO_COLOR is set to anything but the empty string (no-color.org). */
export function colourWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return !env.NO_COLOR && stdoutIsTerminal();
}
