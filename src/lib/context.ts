// Who is asking, for which workspace: the ctx every service verb receives.

export type Role = "owner" | "admin" | "member";

export type Actor =
  | { kind: "user"; userId: number; sessionId?: number }
  | { kind: "apiKey"; userId: number; apiKeyId: number }
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

/** A ctx for work the server does on its own (CLI, jobs). */
export function systemCtx(workspaceId: number, requestId = "system"): Ctx {
  return { workspaceId, actor: { kind: "system", userId: null }, role: "owner", requestId };
}
