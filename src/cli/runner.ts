// Runs the command tree (citty's command definitions): per-command --help (citty's usage plus examples), --version,
// strict flags, and one exit-code policy: 0 done, 1 runtime failure, 2 usage error. The flags are parsed here and
// citty is loaded for --help only: it imports node:util, ~3 ms of a bare start of the binary.
import type { ArgDef, ArgsDef, CommandDef } from "citty";
import { Failure, pathProblem, UsageError } from "./errors";
import { colourWanted } from "../lib/terminal";

/** A citty command plus what its --help shows under EXAMPLES, and the exit code of its usage errors (2 unless said). */
export type Cmd = CommandDef<any> & { examples?: string[]; notes?: string[]; subCommands?: Record<string, Cmd>; usageExit?: 1 | 2 };

const HELP = new Set(["--help", "-h"]);
const VERSION = new Set(["--version", "-v"]);
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

export async function helpText(cmd: Cmd): Promise<string> {
  const { renderUsage } = await import("citty");
  let text = await renderUsage(cmd);
  if (cmd.examples?.length) text += `\n\nEXAMPLES\n\n${cmd.examples.map((e) => `  ${e}`).join("\n")}`;
  if (cmd.notes?.length) text += `\n\n${cmd.notes.join("\n")}`;
  // citty pads every column, the last one too.
  text = `${text.replace(/[ \t]+$/gm, "").replace(/\n{3,}/g, "\n\n")}\n`;
  // citty colours unless NO_COLOR/CI is set; a pipe or a file gets plain text.
  return colourWanted() ? text : strip(text);
}

function nameOf(cmd: Cmd): string {
  return (cmd.meta as { name?: string } | undefined)?.name ?? "clanker";
}

/** Follows command words down the tree; stops at the first flag, the first leaf, or an unknown word. */
function resolve(root: Cmd, argv: string[], forHelp: boolean): { cmd: Cmd; rest: string[] } {
  let cmd = root;
  let i = 0;
  while (cmd.subCommands) {
    // `clanker keys -h list` is list's help, as `clanker keys list -h` is: the help flag is no stop on the way down.
    if (forHelp) while (HELP.has(argv[i] ?? "")) i++;
    const word = argv[i];
    if (word === undefined || word.startsWith("-")) {
      if (forHelp || (word !== undefined && HELP.has(word))) return { cmd, rest: argv.slice(i) };
      const names = Object.keys(cmd.subCommands).join(", ");
      throw new UsageError(`'${nameOf(cmd)}' needs a command: ${names}`, `${nameOf(cmd)} --help`);
    }
    const sub = cmd.subCommands[word];
    if (!sub) throw new UsageError(`unknown command '${nameOf(cmd)} ${word}'`, `${nameOf(cmd)} --help`);
    cmd = sub;
    i++;
  }
  return { cmd, rest: argv.slice(i) };
}

/** The command's args as run() takes them (flags by name, positionals by name and in `_`); unknown flags, flags
 * without their value, extra or missing arguments are usage errors. */
function parseArgs(cmd: Cmd, rest: string[]): Record<string, unknown> & { _: string[] } {
  const where = nameOf(cmd);
  const hint = `${where} --help`;
  const defs = Object.entries((cmd.args ?? {}) as ArgsDef);
  // Each spelling of a flag (its name, its aliases) → its name and definition.
  const flags = new Map<string, [string, ArgDef]>();
  for (const [name, d] of defs) {
    if (d.type === "positional") continue;
    for (const spelling of [name, (d as { alias?: string | string[] }).alias ?? []].flat()) flags.set(spelling, [name, d]);
  }
  const positionals = defs.filter(([, d]) => d.type === "positional");
  const given: string[] = [];
  const seen = new Set<ArgDef>();
  const args: Record<string, unknown> & { _: string[] } = { _: given };
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i]!;
    if (t === "--") {
      given.push(...rest.slice(i + 1));
      break;
    }
    if (!t.startsWith("-") || t === "-") {
      given.push(t);
      continue;
    }
    const eq = t.indexOf("=");
    const name = (eq < 0 ? t : t.slice(0, eq)).replace(/^--?/, "");
    const inline = eq < 0 ? undefined : t.slice(eq + 1);
    const negated = !flags.has(name) && name.startsWith("no-") && flags.get(name.slice(3))?.[1].type === "boolean";
    const [key, def] = flags.get(negated ? name.slice(3) : name) ?? [];
    if (!key || !def) throw new UsageError(`unknown option '${t.slice(0, eq < 0 ? undefined : eq)}' for '${where}'`, hint);
    // Given twice, which one was meant cannot be known (a script's default and the person's own, say).
    if (seen.has(def)) throw new UsageError(`--${key} was given more than once: give it once`, hint);
    seen.add(def);
    if (def.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`, hint);
      args[key] = !negated;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = rest[i + 1];
      if (next === undefined || next.startsWith("--") || /^-[A-Za-z]$/.test(next)) throw new UsageError(`--${name} needs a value${def.valueHint ? ` (${def.valueHint})` : ""}`, hint);
      value = next;
      i++;
    }
    // Given nothing (`--api-key ""`: an agent's config whose variable was unset): refused, not read as not given,
    // which for some flags means another identity or everything (`mcp` as the local owner, `keys list` of all).
    if (value === "") throw new UsageError(`--${name} was given an empty value${def.valueHint ? `: give ${def.valueHint}` : ""}, or leave it out`, hint);
    if (def.type === "enum" && def.options && !def.options.includes(value))
      throw new UsageError(`--${name} must be one of ${def.options.join(", ")}, got '${value}'`, hint);
    args[key] = value;
  }
  if (given.length > positionals.length) throw new UsageError(`unexpected argument '${given[positionals.length]}' for '${where}'`, hint);
  for (const [i, [name, d]] of positionals.entries())
    if (given[i] === undefined && d.required !== false && d.default === undefined) throw new UsageError(`'${where}' needs ${name.toUpperCase()}`, hint);
  for (const [name, d] of defs)
    if (d.type !== "positional" && d.required && !seen.has(d)) throw new UsageError(`'${where}' needs --${name}${d.valueHint ? ` ${d.valueHint}` : ""}`, hint);
  for (const [i, [name, d]] of positionals.entries()) args[name] = given[i] ?? d.default;
  for (const [name, d] of defs) if (d.type !== "positional" && !seen.has(d) && d.default !== undefined) args[name] = d.default;
  return args;
}

/** Parses argv against the tree and runs the command; returns the exit code (a command may also set process.exitCode). */
export async function runCli(root: Cmd, argv: string[], version: string, defaultCommand: string): Promise<number> {
  let usageExit: 1 | 2 = 2;
  try {
    if (VERSION.has(argv[0] ?? "")) {
      if (argv.length > 1) throw new UsageError(`--version takes no argument, got '${argv[1]}'`, "clanker --help");
      console.log(version);
      return 0;
    }
    if (argv[0] === "help") {
      const flag = argv.slice(1).find((a) => a.startsWith("-") && !HELP.has(a));
      if (flag !== undefined) throw new UsageError(`help takes a command's name, not '${flag}'`, "clanker help");
      console.log(await helpText(resolve(root, argv.slice(1), true).cmd));
      return 0;
    }
    // `clanker` alone, or `clanker --port 80`, is `clanker serve ...`; a command after such flags (`clanker --data d keys
    // list`) is one whose flags came first.
    const leading = argv.length === 0 || (argv[0]!.startsWith("-") && !HELP.has(argv[0]!));
    // (A word right after a flag is that flag's value: `--data keys` names a folder.)
    const command = leading ? argv.findIndex((a, i) => root.subCommands?.[a] !== undefined && !/^-[^=]*$/.test(argv[i - 1] ?? "")) : -1;
    if (command > 0) throw new UsageError(`options go after the command: clanker ${[...argv.slice(command), ...argv.slice(0, command)].join(" ")}`);
    const words = leading ? [defaultCommand, ...argv] : argv;
    const end = words.indexOf("--");
    const wantsHelp = (end < 0 ? words : words.slice(0, end)).some((a) => HELP.has(a));
    const { cmd, rest } = resolve(root, words, wantsHelp);
    usageExit = cmd.usageExit ?? 2;
    if (wantsHelp) {
      console.log(await helpText(cmd));
      return 0;
    }
    const args = parseArgs(cmd, rest);
    await cmd.run?.({ args, rawArgs: rest, cmd } as never);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      const hint = e.hint ? `; see '${e.hint}'` : "";
      console.error(`clanker: ${strip(e.message)}${hint}`);
      return usageExit;
    }
    if (e instanceof Failure) {
      console.error(`clanker: ${e.message}`);
      return e.code;
    }
    const path = pathProblem(e);
    if (path) {
      console.error(`clanker: ${path}`);
      return 2;
    }
    // SQLite's SQLITE_CORRUPT (and its extended codes) and SQLITE_NOTADB: a stack trace would say nothing a person can use.
    const code = String((e as { code?: unknown })?.code ?? "");
    if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
      console.error(`clanker: the database is damaged (${(e as Error).message}): stop the server and put the latest backup back (clanker restore --help); clanker doctor checks it`);
      return 1;
    }
    console.error(`clanker: ${(e as Error)?.stack ?? e}`);
    return 1;
  }
}
