// When a workspace's MCP resource list changes (clanker://artifacts/…, clanker://workflows/…), for the sessions that
// send notifications/resources/list_changed: a run that ends with artifacts (the event log already says so, on every
// replica), an artifact deleted, a workflow definition saved or deleted. The last two are not events of the log
// (GET /api/events has nothing to replay for them): they are told after their commit, here and, with Redis, on every
// replica through the fan-out.
import { randomBytes } from "../../lib/crypto";
import type { Store } from "../../store/db";
import type { Fanout } from "../../shared";
import type { EventBus } from "./bus";
import { EXECUTION_EVENT } from "../executions/settle";

const CHANNEL = "resource-lists";

export class ListChanges {
  private listeners = new Map<number, Set<() => void>>();
  /** Starts every message this process publishes: the copy the fan-out hands back is skipped. */
  private readonly origin = randomBytes(6).toString("base64url");

  constructor(
    private store: Store,
    private bus: EventBus,
    private fanout: Fanout | null = null,
  ) {
    fanout?.subscribe(CHANNEL, (msg) => {
      if (!msg.startsWith(this.origin)) this.tell(Number(msg.slice(this.origin.length)));
    });
  }

  /** Inside the caller's tx: the workspace's listeners hear of it once the tx commits, never if it rolls back. */
  changed(workspaceId: number): void {
    this.store.afterCommit(() => {
      this.tell(workspaceId);
      this.fanout?.publish(CHANNEL, `${this.origin}${workspaceId}`);
    });
  }

  /** `fn` on each change of the workspace's lists; returns the unsubscribe function. */
  subscribe(workspaceId: number, fn: () => void): () => void {
    let set = this.listeners.get(workspaceId);
    if (!set) this.listeners.set(workspaceId, (set = new Set()));
    set.add(fn);
    const offRuns = this.bus.subscribe(workspaceId, (e) => {
      const run = e.data as { status?: string; artifactId?: string | null };
      if (e.type === EXECUTION_EVENT && run.status === "completed" && run.artifactId) fn();
    });
    return () => {
      offRuns();
      set.delete(fn);
      if (!set.size) this.listeners.delete(workspaceId);
    };
  }

  private tell(workspaceId: number): void {
    for (const fn of this.listeners.get(workspaceId) ?? []) fn();
  }
}
