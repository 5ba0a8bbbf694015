// How often a cron fires, as this server allows it (CLANKER_CRON_MIN_INTERVAL_SECONDS): judged at a definition's
// save, at every schedule sync, and for every cron a list of triggers shows. Each judgement computes 61 firings
// (2–3 ms): remembered by pattern, zone and bound.
import { Cron } from "croner";
import { invalidParameter } from "../../lib/errors";
import { isCron, type WorkflowDefinition } from "./definition";

/**
 * Refuses a cron trigger that would fire more often than once every `minSeconds` (CLANKER_CRON_MIN_INTERVAL_SECONDS).
 * croner takes a seconds field in front: a six-field pattern meant as every 5 minutes launches (and bills) a run
 * every 5 s.
 * The least gap between its next 61 firings: a burst (every second of one minute) is within them.
 */
export function checkCronIntervals(def: WorkflowDefinition, minSeconds: number): void {
  for (const [i, t] of (def.triggers ?? []).entries()) {
    const gap = isCron(t) ? cronTooOften(t.cron, t.timezone, minSeconds) : null;
    if (gap !== null)
      throw invalidParameter(`triggers.${i}.cron: fires every ${gap} s at times, more often than this server allows (once every ${minSeconds} s, CLANKER_CRON_MIN_INTERVAL_SECONDS); a sixth field in front is seconds: "0 9 * * 1" is 9:00 every Monday`, `triggers.${i}.cron`);
  }
}

const judged = new Map<string, number | null>();

/** The least gap, in seconds, between a cron's next 61 firings when it is under `minSeconds`; null when it is not. */
export function cronTooOften(cron: string, timezone: string | undefined, minSeconds: number): number | null {
  const key = `${minSeconds} ${timezone ?? ""} ${cron}`;
  const known = judged.get(key);
  if (known !== undefined) return known;
  const next = new Cron(cron, { paused: true, timezone }).nextRuns(61).map((d) => d.getTime());
  let gap = Infinity;
  for (let k = 1; k < next.length; k++) gap = Math.min(gap, next[k]! - next[k - 1]!);
  const too = gap < minSeconds * 1000 ? gap / 1000 : null;
  if (judged.size >= 10_000) judged.clear();
  judged.set(key, too);
  return too;
}


