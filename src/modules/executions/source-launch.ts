// A run that reads code starts in two steps: read its connector's source (async, off the dispatch path), record
// what the model gets on the run (while this replica still holds it), then launch it on the pool.
import { and, eq } from "drizzle-orm";
import { replicaId } from "../../lib/replica";
import type { Store } from "../../store/db";
import { executions } from "../../store/schema";
import type { FromWorker } from "../../executor/protocol";
import type { Connector } from "./prompt";
import type { ExecutionRow } from "./view";

type Failed = Extract<FromWorker, { type: "failed" }>;

export function readSourceThenLaunch(
  d: { store: Store; sourceContext?: (workspaceId: number, c: Connector) => Promise<{ text: string; record: unknown }> },
  e: ExecutionRow,
  c: Connector,
  run: { live(): boolean; launch(text: string): void; fail(m: Failed): void },
): void {
  const zero = { inputTokens: 0, outputTokens: 0 };
  // Through a promise even when the lookup throws at once (a connector disconnected while the run waited):
  // a throw here would escape setImmediate and end the process.
  // Fire and forget: the run goes on off the dispatch path; every outcome ends in launch() or a failed message.
  void Promise.resolve(c)
    .then((conn) => d.sourceContext!(e.workspaceId, conn))
    .then(
      async ({ text, record }) => {
        if (!run.live()) return;
        const { store } = d;
        const [row] = await store.tx(() =>
          store.db
            .update(executions)
            .set({ connector: { type: c.type, fields: c.fields, context: record } })
            .where(and(eq(executions.id, e.id), eq(executions.status, "running"), eq(executions.leaseOwner, replicaId)))
            .returning({ id: executions.id }),
        );
        // Cancelled while the source was read (or taken back by another replica): nothing to launch.
        if (!row) return run.fail({ type: "failed", executionId: e.id, code: "CANCELLED", message: "Cancelled", usage: zero });
        run.launch(text);
      },
      (err: Error) => run.fail({ type: "failed", executionId: e.id, code: "CONNECTOR_ERROR", message: `Reading ${c.type} source failed: ${err.message}`, usage: zero }),
    )
    .catch((err: unknown) => run.fail({ type: "failed", executionId: e.id, code: "CONNECTOR_ERROR", message: `Recording the ${c.type} source failed: ${(err as Error)?.message ?? String(err)}`, usage: zero }));
}
