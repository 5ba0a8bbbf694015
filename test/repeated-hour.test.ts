// Cron across the end of daylight saving time: a pattern at fixed hours fires once in the repeated hour (croner, which
// matches the wall clock, fired it twice), a pattern at every hour fires every real hour; other days and UTC untouched.
import { describe, expect, test } from "bun:test";
import { Cron } from "croner";
import { secondPassOfRepeatedHour } from "../src/modules/workflows/repeated-hour";

/** What fires from `from` on, as the scheduler lets it: croner's ticks less the second passes. */
function fired(pattern: string, timezone: string, from: string, n: number): string[] {
  const ticks = new Cron(pattern, { paused: true, timezone }).nextRuns(n, new Date(from));
  return ticks.filter((d) => !secondPassOfRepeatedHour(pattern, d.getTime(), timezone)).map((d) => d.toISOString());
}

describe("a clock turned back", () => {
  test("a pattern with several times in the repeated hour fires each once (croner fired four)", () => {
    expect(fired("0,30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 6)).toEqual([
      "2026-11-01T05:00:00.000Z",
      "2026-11-01T05:30:00.000Z",
      "2026-11-02T06:00:00.000Z",
      "2026-11-02T06:30:00.000Z",
    ]);
    // With seconds in front, and a range of minutes.
    expect(fired("0 */20 1 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 6).slice(0, 3)).toEqual(["2026-10-24T23:00:00.000Z", "2026-10-24T23:20:00.000Z", "2026-10-24T23:40:00.000Z"]);
  });

  test("a pattern at every hour fires every real hour, the repeated one too; a day without a change, and UTC, are untouched", () => {
    expect(fired("0 * * * *", "America/New_York", "2026-11-01T04:30:00Z", 4)).toEqual(["2026-11-01T05:00:00.000Z", "2026-11-01T06:00:00.000Z", "2026-11-01T07:00:00.000Z", "2026-11-01T08:00:00.000Z"]);
    expect(fired("0,30 1 * * *", "America/New_York", "2026-06-01T00:00:00Z", 4)).toHaveLength(4);
    expect(fired("0,30 1 * * *", "UTC", "2026-11-01T00:00:00Z", 4)).toHaveLength(4);
  });

  test("a half-hour change (Lord Howe Island) too", () => {
    const times = fired("0,10,40,50 1 * * *", "Australia/Lord_Howe", "2027-04-03T12:00:00Z", 12).map((iso) => new Date(iso).toLocaleString("en-AU", { timeZone: "Australia/Lord_Howe", hour: "2-digit", minute: "2-digit", day: "2-digit", hourCycle: "h23" }));
    // Each wall-clock time of the pattern once a day.
    const days = new Map<string, string[]>();
    for (const t of times) {
      const [day, time] = t.split(", ") as [string, string];
      days.set(day, [...(days.get(day) ?? []), time]);
    }
    for (const list of days.values()) expect(new Set(list).size).toBe(list.length);
  });
});
