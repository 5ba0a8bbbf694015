// Who is asking, for which workspace: the ctx every service verb receives.
import { PermissionError } from "./errors";
import { encodeId } from "./ids";

export type Role = "owner" | "admin" | "member";

export type Actor =
  | { kind: "user"; userId: number; sessionId?: number }
  /** `app`: issued to an app over OAuth, which may do less than its person (refuseAppKey). */
  | { kind: "apiKey"; userId: number; apiKeyId: number; app?: true }
  | { kind: "agent"; userId: number | null; apiKeyId: number }
  | { kind: "system"; userId: null };

export interface Ctx {
  workspaceId: number;
  actor: Actor;
  role: Role;
  requestId: string;
  ip?: string | null;
  userAgent?: string | null;
}

/** Who sent a request that has no principal yet (a device's poll, an agent's registration): for its audit rows. */
export type Caller = Pick<Ctx, "requestId" | "ip" | "userAgent">;

const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

/** Owners and admins manage members, keys, BYOK and secrets; members run skills and read. */
export function hasRole(ctx: Ctx, least: Role): boolean {
  return RANK[ctx.role] >= RANK[least];
}

export function assertRole(ctx: Ctx, least: Role, what: string): void {
  if (!hasRole(ctx, least)) throw new PermissionError(`Only workspace ${least === "owner" ? "owners" : "owners and admins"} can ${what}`, "ROLE_REQUIRED");
}

/**
 * Whether ctx's caller started a run recorded with these actor columns: the same person (by any of their keys or
 * sessions), or the same unclaimed agent key. A run started by the server itself (a trigger) is nobody's.
 */
export function startedBy(run: { actorUserId: number | null; actorApiKeyId: number | null }, ctx: Ctx): boolean {
  const a = ctx.actor;
  if (a.userId !== null) return run.actorUserId === a.userId;
  return a.kind === "agent" && run.actorUserId === null && run.actorApiKeyId === a.apiKeyId;
}

/**
 * Who started a run, as its views show it: the person (null for a trigger or an unclaimed agent) and the key
 * it came through (null for a session or a trigger). A page compares it with the profile to offer Cancel only
 * where the caller may use it.
 */
export function starterView(run: { actorUserId: number | null; actorApiKeyId: number | null }) {
  return {
    userId: run.actorUserId === null ? null : encodeId("user", run.actorUserId),
    apiKeyId: run.actorApiKeyId === null ? null : encodeId("apiKey", run.actorApiKeyId),
  };
}

/**
 * A run's callback URL as `ctx` sees it: whole to whoever started the run and to owners and admins; to another member
 * its origin only. Members read every run, and a callback's path or query is often its token (a Slack webhook's).
 */
export function callbackUrlFor(run: { actorUserId: number | null; actorApiKeyId: number | null; callbackUrl: string | null }, ctx: Ctx): string | null {
  if (run.callbackUrl === null || startedBy(run, ctx) || hasRole(ctx, "admin")) return run.callbackUrl;
  return URL.canParse(run.callbackUrl) ? `${new URL(run.callbackUrl).origin}/…` : null;
}

/** Members may end only what they started; owners and admins anything in the workspace. */
export function assertMayCancel(run: { actorUserId: number | null; actorApiKeyId: number | null }, ctx: Ctx, what: string): void {
  if (!startedBy(run, ctx) && !hasRole(ctx, "admin"))
    throw new PermissionError(`Only workspace owners and admins can cancel ${what} someone else started`, "ROLE_REQUIRED");
}

/**
 * One name per caller: the person (whichever of their keys or sessions), or a key that has no person, or an app's key,
 * which answers for itself: an idempotent answer its person got (a new API key) is no replay for an app that may not
 * make one (APP_KEY_LIMITED).
 */
export function callerOf(ctx: Ctx): string {
  const a = ctx.actor;
  if (a.kind === "apiKey" && a.app) return `app:${a.apiKeyId}`;
  if (a.userId !== null) return `user:${a.userId}`;
  return a.kind === "agent" ? `key:${a.apiKeyId}` : "system";
}

/**
 * A ctx for work the server does for whoever started something (a workflow's steps): the server's authority, as
 * systemCtx's, recorded as the person and key that started it (their audit rows, the executions it starts: the
 * starter may cancel those as their own), or as the system when nobody did (a trigger's run).
 */
export function onBehalfOf(row: { workspaceId: number; actorUserId: number | null; actorApiKeyId: number | null }, requestId: string): Ctx {
  const { workspaceId, actorUserId: userId, actorApiKeyId: apiKeyId } = row;
  // A key with no person is an unclaimed agent's (which may not launch workflows today): named as it is all the same.
  if (apiKeyId !== null) return { workspaceId, actor: userId === null ? { kind: "agent", userId, apiKeyId } : { kind: "apiKey", userId, apiKeyId }, role: "owner", requestId };
  return userId === null ? systemCtx(workspaceId, requestId) : { workspaceId, actor: { kind: "user", userId }, role: "owner", requestId };
}

/** A ctx for work the server does on its own (CLI, jobs). */
export function systemCtx(workspaceId: number, requestId = "system"): Ctx {
  return { workspaceId, actor: { kind: "system", userId: null }, role: "owner", requestId };
}
