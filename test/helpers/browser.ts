// Debian's chromium through playwright-core for the page tests: one launch (the flags the machine needs), the
// folder screenshots go to, and the accessibility check every page passes.
import { expect } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Where the page tests write their screenshots (git-ignored; the README names it). */
export const SCREENS = resolve(import.meta.dir, "..", "..", "test-artifacts", "screens");

/** Launches chromium, waiting (bounded) in case apt is still installing it when the suite starts. */
export async function launchChromium(): Promise<Browser> {
  const deadline = Date.now() + 20_000;
  while (!existsSync(CHROMIUM) && Date.now() < deadline) await Bun.sleep(250);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (.ci/run installs it with apt-get)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 20_000 });
}

/** A full-page screenshot named `name` in SCREENS. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS, { recursive: true });
  await page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true });
}

/** axe-core on the page as it is: no serious or critical violation (`exclude`: content that is not ours). */
export async function expectAccessible(page: Page, name: string, exclude?: string): Promise<void> {
  const builder = new AxeBuilder({ page });
  if (exclude) builder.exclude(exclude);
  const { violations } = await builder.analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${name}: ${v.id} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(bad).toEqual([]);
}
