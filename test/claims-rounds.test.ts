// The replica's lease loop (RunClaims.start), in process: a round that never settles (a query to a PostgreSQL that
// stopped answering) is given up on after a lease, and the loop goes on renewing.
import { afterAll, expect, test } from "bun:test";
import { RunClaims } from "../src/modules/executions/claims";
import { leaseMillis, setLeaseSeconds } from "../src/lib/replica";
import { lineLog } from "../src/lib/log";

const leaseSeconds = leaseMillis() / 1000;
let claims: RunClaims | undefined;
afterAll(() => {
  claims?.stop();
  setLeaseSeconds(leaseSeconds);
});

test("a renewal round that never settles does not stop the loop: the next round starts once a lease has gone by", async () => {
  setLeaseSeconds(1); // rounds every 333 ms, given up on after 1 s
  const lines: string[] = [];
  let rounds = 0;
  let second!: () => void;
  const secondRound = new Promise<void>((r) => (second = r));
  // Nothing here touches the store: this process runs nothing and reaps nothing.
  claims = new RunClaims({} as ConstructorParameters<typeof RunClaims>[0]);
  const started = Date.now();
  claims.start({
    kick: () => {},
    running: () => [],
    lost: () => {},
    betweenSettles: <T>(fn: () => Promise<T>): Promise<T> => (++rounds === 1 ? new Promise<T>(() => {}) : (second(), fn())),
    reap: false,
    poll: false,
    log: lineLog((l) => lines.push(l)),
  });
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 4_000));
  expect(await Promise.race([secondRound.then(() => "second round"), timeout])).toBe("second round");
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  expect(lines.some((l) => /renewing run leases: a round has not ended in 1000 ms/.test(l))).toBe(true);
});
