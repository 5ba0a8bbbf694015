// Small assertions and waits over the REST API shared by the suites: typed error envelopes, runs that end.
import { expect } from "bun:test";
import type { ApiResponse, client } from "./server";

type Call = ReturnType<typeof client>;

/** Asserts the typed error envelope: status and type, and code and param when given. */
export function expectError(r: ApiResponse, status: number, type: string, code?: string, param?: string): void {
  expect({ status: r.status, type: r.body?.error?.type, code: r.body?.error?.code, param: r.body?.error?.param, text: r.text }).toMatchObject({
    status,
    type,
    ...(code ? { code } : {}),
    ...(param ? { param } : {}),
  });
}

/** Polls GET /executions/:id/status until the execution has ended (completed, failed, cancelled); returns the status. */
export async function finished(call: Call, id: string, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: ApiResponse | undefined;
  while (Date.now() < deadline) {
    last = await call("GET", `/api/v1/executions/${id}/status`);
    if (["completed", "failed", "cancelled"].includes(last.body?.status)) return last.body;
    await Bun.sleep(50);
  }
  throw new Error(`execution ${id} did not end in ${timeoutMs} ms; last: ${last?.text}`);
}

/** Polls GET /workflows/runs/:id until the run has ended or suspended; returns the run. */
export async function runFinished(call: Call, runId: string, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call("GET", `/api/v1/workflows/runs/${runId}`);
    expect(r.status).toBe(200);
    if (["completed", "failed", "cancelled", "suspended"].includes(r.body.status)) return r.body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${r.body.status}: ${JSON.stringify(r.body.steps)}`);
    await Bun.sleep(50);
  }
}
