// The folder a backup is written in before it is complete (renamed to its own name at the end), and which of them
// no one will finish: a backup killed part-way leaves one, a database copy and the master key in it.
import { readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** `.<name>.partial-<pid>-<start ms>`, beside the target: the writer's pid and start time. */
const partialOf = (name: string): RegExp => new RegExp(`^\\.${name}\\.partial-(\\d+)-(\\d+)$`);
/** Scheduled backups' partials: their names are the schedule's own. */
export const SCHEDULED_PARTIAL = partialOf("clanker-backup-\\d{8}T\\d{9}Z");
/** A manual backup's partials: those of its own target's name only (any hidden folder of that shape, in a home
 * folder say, is not ours to remove). */
const partialsOfTarget = (target: string): RegExp => partialOf(basename(target).replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
const HOUR = 3600_000;

export const partialPath = (target: string): string => join(dirname(target), `.${basename(target)}.partial-${process.pid}-${Date.now()}`);

/**
 * A partial backup no one will finish: this process's own when it writes no other now (in a container the server is
 * pid 1 at every start, so a killed one's partial carries the pid of the next), or a gone process's an hour on (a
 * backup folder shared between hosts shows their live writers as gone here).
 */
function abandoned(name: string, writingHere: boolean, pattern: RegExp): boolean {
  const m = pattern.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return !writingHere;
  if (Date.now() - Number(m[2]) < HOUR) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Removes the abandoned partial backups among `names` (entries of `dir`) of `pattern`'s names; returns theirs. */
export function sweepPartials(dir: string, names: string[], writingHere: boolean, pattern: RegExp): string[] {
  const gone = names.filter((n) => abandoned(n, writingHere, pattern));
  for (const name of gone) rmSync(join(dir, name), { recursive: true, force: true });
  return gone;
}

/** sweepPartials of a manual backup to `target`: beside it, of its name (none when the folder cannot be read). */
export function sweepPartialsOf(target: string, writingHere: boolean): string[] {
  const dir = dirname(target);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return sweepPartials(dir, names, writingHere, partialsOfTarget(target));
}
