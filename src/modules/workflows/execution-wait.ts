// How a workflow's skill step waits for its execution to end: told by the event bus, and read from the database
// every second for an execution another process runs.
import { eq } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { decodeId } from "../../lib/ids";
import { executions } from "../../store/schema";
import type { BusEvent } from "../events/bus";
import type { ExecutionsService } from "../executions/service";
import type { EngineDeps } from "./engine";

const ENDED = new Set(["completed", "failed", "cancelled"]);
/** How often a step waiting on its execution reads its status, besides the events of this process's commits. */
const WAIT_POLL_MS = 1000;

export function waitForExecution(d: Pick<EngineDeps, "store" | "bus" | "executions">, workspaceId: number, ctx: Ctx, executionId: string) {
  return new Promise<Awaited<ReturnType<ExecutionsService["status"]>>>((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      reject(e);
    };
    const check = async (polled = false) => {
      // A poll reads the status alone; the whole run (its output blocks) once it has ended.
      if (polled) {
        const [row] = await d.store.db.select({ status: executions.status }).from(executions).where(eq(executions.id, decodeId("execution", executionId)!));
        if (row && !ENDED.has(row.status)) return;
      }
      const s = await d.executions.status(ctx, executionId);
      if (settled || !ENDED.has(s.status)) return;
      settled = true;
      unsubscribe();
      resolve(s);
    };
    const bus = d.bus.subscribe(workspaceId, (e: BusEvent) => {
      const data = e.data as { executionId?: string; status?: string };
      if (data.executionId === executionId && data.status && ENDED.has(data.status)) void check().catch(fail);
    });
    // The execution may run in another process (a replica; the server, for a `clanker mcp` that leaves its runs to
    // it), whose commits this bus never hears: its end is also read from the database.
    const poll = setInterval(() => void check(true).catch(fail), WAIT_POLL_MS);
    const unsubscribe = () => {
      bus();
      clearInterval(poll);
    };
    void check().catch(fail);
  });
}
