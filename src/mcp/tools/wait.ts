// execute-skill's wait: follows the run on the event bus, turning output blocks into MCP progress notifications.
import type { Ctx } from "../../lib/context";
import type { Services } from "../../services";

interface Extra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification: (n: { method: "notifications/progress"; params: { progressToken: string | number; progress: number; message?: string } }) => Promise<void>;
}

export const ENDED_STATUSES: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);
/**
 * How often the store is asked besides: a run another process runs (the server beside `clanker mcp` on one SQLite file
 * takes a run this process queued once it has waited a poll) says nothing on this process's bus.
 */
const STORE_POLL_MS = 1_000;

/**
 * The waits in progress, by their answer, each with what ends it early: a shutdown ends them (endExecutionWaits), so
 * that a client whose run is put back to the queue hears of it, with its id, before its session closes.
 */
const waits = new Map<Promise<unknown>, () => void>();

/** Ends every wait now; resolves once each has its answer (the run as it is then: queued again, with its id). */
export async function endExecutionWaits(): Promise<void> {
  const answers = [...waits];
  for (const [, end] of answers) end();
  await Promise.allSettled(answers.map(([answer]) => answer));
}

export function waitForExecution(deps: { services: Services; ctx: Ctx; extra: Extra }, executionId: string, timeoutMs: number) {
  const wait = { end: () => {} };
  const answer = follow(deps, executionId, timeoutMs, wait);
  waits.set(answer, () => wait.end());
  const forget = () => void waits.delete(answer);
  answer.then(forget, forget);
  return answer;
}

async function follow({ services, ctx, extra }: { services: Services; ctx: Ctx; extra: Extra }, executionId: string, timeoutMs: number, wait: { end: () => void }) {
  const token = extra._meta?.progressToken;
  let progress = 0;
  /** The last block told as progress (its index): one heard both on the bus and from the store is told once. */
  let told = 0;
  const sent: Promise<void>[] = [];
  const tell = (blocks: { index: number; content: string }[]) => {
    const fresh = blocks.filter((b) => b.index > told);
    if (token === undefined || !fresh.length) return;
    told = fresh.at(-1)!.index;
    progress += fresh.length;
    sent.push(extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, message: fresh.map((b) => b.content).join("") } }).catch(() => {}));
  };
  await new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      clearInterval(poll);
      unsubscribe();
      extra.signal.removeEventListener("abort", finish);
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    const unsubscribe = services.bus.subscribe(ctx.workspaceId, (e) => {
      const d = e.data as { executionId?: string; status?: string; blocks?: { index: number; content: string }[] };
      if (d.executionId !== executionId) return;
      if (d.blocks) tell(d.blocks);
      if (d.status && ENDED_STATUSES.has(d.status)) finish();
    });
    extra.signal.addEventListener("abort", finish);
    wait.end = finish;
    // It may have ended before we subscribed (a failed first read ends the wait: the status read below reports it), or
    // end in another process (a later read that fails is only asked again).
    // Asked with the blocks past the last told when progress is wanted: a run the server beside `clanker mcp` runs
    // streams on that server's bus, not this process's, and its progress came only from here (none at all before).
    const read = async () =>
      token === undefined ? { ...(await services.executions.get(ctx, executionId)), outputBlocks: [] } : await services.executions.status(ctx, executionId, told);
    const ask = (onFailure: () => void) =>
      void read().then((e) => {
        tell(e.outputBlocks);
        if (ENDED_STATUSES.has(e.status)) finish();
      }, onFailure);
    const poll = setInterval(() => ask(() => {}), STORE_POLL_MS);
    ask(finish);
    // Withdrawn while the run was being started: no abort event is coming.
    if (extra.signal.aborted) finish();
  });
  // Every progress notification goes out before the result, and apart from it: a client handles notifications a
  // microtask after responses, and drops progress that arrives after the result in the same chunk. A turn of the
  // loop was not always apart enough on a loaded machine (the legacy SSE stream wrote both in one read); 20 ms is,
  // and costs nothing beside a model's answer.
  await Promise.all(sent);
  if (sent.length) await new Promise((r) => setTimeout(r, 20));
  const status = await services.executions.status(ctx, executionId);
  return { ...status, output: status.outputBlocks.map((b) => b.content).join("") };
}
