// A route's mutation under the request's idempotency-key, in the group-commit batch (src/http/idempotency.ts).
import { callerOf, type Ctx } from "../lib/context";
import type { Idempotency, RunOptions } from "./idempotency";
import type { PlatformDeps } from "./platform";
import { pathOf } from "./request-parts";

/**
 * Routes pass the context's parts by name (`({ ctx, deps, body, request, set }) => idempotent({ ctx, … }, …)`), not
 * the context itself: Elysia reads a handler's source, and one that hands its whole context to a function gets its
 * cookies, headers and query parsed on every request in case the function reads them.
 *
 * Runs a mutation under the request's idempotency-key: a replay answers with the stored status and body
 * and `idempotency-replayed: true`. The mutation joins the group-commit batch; whatever the outcome (answer,
 * replay, error), nothing leaves before that batch's COMMIT, and a failed COMMIT answers 500 COMMIT_FAILED (503 STORE_UNAVAILABLE when the store could not write: a full disk).
 */
export async function idempotent<T>(
  c: { deps: PlatformDeps; ctx: Ctx; request: Request; body: unknown; set: { status?: number | string; headers: Record<string, string | number> } },
  fn: () => T | Promise<T>,
  opts: { seal?: readonly string[]; tx?: RunOptions; replayed?: (first: unknown) => void } = {},
): Promise<T> {
  let out: Awaited<ReturnType<Idempotency["run"]>>;
  try {
    out = await runIdempotent(c, fn, opts);
  } catch (e) {
    await committed(c.deps);
    throw e;
  }
  await committed(c.deps);
  c.set.status = out.status;
  if (!out.replayed) return out.body as T;
  c.set.headers["idempotency-replayed"] = "true";
  if (out.status < 300 && opts.tx?.replayAs) {
    const body = await opts.tx.replayAs(JSON.parse(out.body));
    opts.replayed?.(body);
    return body as T;
  }
  // The first answer's content type (Response.json's), as well as its bytes, and what the route derives from it.
  c.set.headers["content-type"] = "application/json;charset=utf-8";
  if (opts.replayed && out.status < 300) opts.replayed(JSON.parse(out.body));
  return new Response(out.body, { status: out.status }) as unknown as T;
}

/** Waits for the open group-commit batch (the one this request's writes or replay depend on). */
const committed = (deps: PlatformDeps): Promise<void> => deps.idempotency.committed((line) => deps.log.error(line));

function runIdempotent<T>(
  c: { deps: PlatformDeps; ctx: Ctx; request: Request; body: unknown },
  fn: () => T | Promise<T>,
  opts: { seal?: readonly string[]; tx?: RunOptions },
) {
  return c.deps.idempotency.run(
    {
      workspaceId: c.ctx.workspaceId,
      principal: callerOf(c.ctx),
      key: c.request.headers.get("idempotency-key"),
      method: c.request.method,
      path: pathOf(c.request.url),
      body: c.body,
    },
    async () => ({ status: 200, body: await fn() }),
    opts.seal,
    opts.tx,
  );
}
