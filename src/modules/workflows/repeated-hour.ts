// A clock turned back (daylight saving time's end) repeats an hour, and croner matches the wall clock: a pattern
// naming its hours ("0,30 1 * * *" in New York) fired in it twice, so its runs came twice, and their charges, posts and
// mails. Cron's rule (Vixie cron's): a job at fixed hours runs once in a repeated hour, one at every hour ("*", "*/2")
// every real hour. (A pattern with one time in that hour was already right: croner fires it once.)

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock at `ms` in `timezone`, to the second. */
function wallClock(ms: number, timezone: string): string {
  let f = formats.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    if (formats.size < 1000) formats.set(timezone, f);
  }
  return f.format(ms);
}

/** Clocks turn back by these (Lord Howe Island by half an hour). */
const SHIFTS_MS = [30 * 60_000, 60 * 60_000, 120 * 60_000];

/** Whether the tick at `tickMs` is the second pass of a wall-clock time a turned-back clock repeats, for a pattern at fixed hours. */
export function secondPassOfRepeatedHour(pattern: string, tickMs: number, timezone: string | undefined): boolean {
  if (!timezone || timezone === "UTC") return false;
  const fields = pattern.trim().split(/\s+/);
  // Five fields (minute hour …), or six with seconds in front; a nickname (@daily) names its hour as 0.
  const hour = fields.length >= 6 ? fields[2] : fields.length === 5 ? fields[1] : "0";
  if (hour === undefined || hour.startsWith("*")) return false;
  const now = wallClock(tickMs, timezone);
  return SHIFTS_MS.some((shift) => wallClock(tickMs - shift, timezone) === now);
}
