// What an unclaimed agent key may do: the scopes its registration advertises, enforced on every service verb.
import type { Ctx } from "./context";
import { PermissionError } from "./errors";

/**
 * An unclaimed agent's scopes. skills:run = run, rerun and cancel its runs, list installed skills (the catalog
 * is public); executions:read = list, status and the /api/events stream of its own workspace; billing:read =
 * its balance, tier and transactions; profile:read = who it is.
 */
export const PRE_CLAIM_SCOPES: readonly string[] = [
  "skills:run",
  "executions:read",
  "artifacts:read",
  "memory:read",
  "memory:write",
  "billing:read",
  "profile:read",
];

/** Everything: a person's session or key, a claimed agent, the server itself. */
export const ALL_SCOPES: readonly string[] = ["*"];

/**
 * The scope each service verb (`service.verb`) needs when the caller is an unclaimed agent. A verb that takes
 * a ctx and is missing here needs "*", so a new verb is closed to unclaimed agents until someone opens it.
 */
const VERB_SCOPES: Record<string, string> = {
  "executions.run": "skills:run",
  "executions.rerun": "skills:run",
  "executions.cancel": "skills:run",
  "skills.listInstalled": "skills:run",
  "skills.isInstalled": "skills:run",
  "executions.get": "executions:read",
  "executions.status": "executions:read",
  "executions.list": "executions:read",
  "artifacts.list": "artifacts:read",
  "artifacts.get": "artifacts:read",
  "artifacts.file": "artifacts:read",
  "memory.read": "memory:read",
  "memory.write": "memory:write",
  "memory.append": "memory:write",
  "billing.balance": "billing:read",
  "billing.tier": "billing:read",
  "billing.transactions": "billing:read",
  "profile.get": "profile:read",
  // Named so the refusal says what is missing; none of these is granted before a claim.
  "artifacts.remove": "artifacts:write",
  "skills.install": "skills:install",
  "skills.uninstall": "skills:install",
  "skills.listBindings": "secrets:read",
  "skills.bind": "secrets:write",
  "skills.unbind": "secrets:write",
  "secrets.list": "secrets:read",
  "secrets.get": "secrets:read",
  "secrets.create": "secrets:write",
  "secrets.update": "secrets:write",
  "secrets.remove": "secrets:write",
  "byok.status": "byok:read",
  "byok.set": "byok:write",
  "byok.remove": "byok:write",
  "workflows.definitions": "workflows:read",
  "workflows.runs": "workflows:read",
  "workflows.run": "workflows:read",
  "workflows.triggers": "workflows:read",
  "workflows.launch": "workflows:run",
  "workflows.resume": "workflows:run",
  "workflows.cancel": "workflows:run",
  "workflows.saveDefinition": "workflows:write",
  "workflows.deleteDefinition": "workflows:write",
  "triggers.list": "triggers:read",
  "triggers.get": "triggers:read",
  "triggers.secret": "triggers:write",
  "triggers.rotate": "triggers:write",
  "auditLogs.list": "audit-logs:read",
  "webhooks.show": "webhooks:read",
  "webhooks.rotate": "webhooks:write",
  "apiKeys.list": "api-keys:read",
  "apiKeys.create": "api-keys:write",
  "apiKeys.revoke": "api-keys:write",
  "profile.update": "profile:write",
  "workspaces.current": "workspaces:read",
  "workspaces.list": "workspaces:read",
  "workspaces.members": "workspaces:read",
  "workspaces.create": "workspaces:write",
  "workspaces.rebindKey": "workspaces:write",
  "invitations.invite": "members:write",
  "invitations.accept": "members:write",
  "integrations.list": "integrations:read",
  "integrations.connect": "integrations:write",
  "integrations.disconnect": "integrations:write",
  "integrations.execute": "integrations:run",
  "connectors.list": "connectors:read",
  "connectors.status": "connectors:read",
  "connectors.sources": "connectors:read",
  "connectors.branches": "connectors:read",
  "connectors.content": "connectors:read",
  "connectors.connect": "connectors:write",
  "connectors.disconnect": "connectors:write",
};

export function scopesOf(ctx: Ctx): readonly string[] {
  return ctx.actor.kind === "agent" ? PRE_CLAIM_SCOPES : ALL_SCOPES;
}

export function hasScope(ctx: Ctx, scope: string): boolean {
  const held = scopesOf(ctx);
  return held.includes("*") || held.includes(scope);
}

export function assertScope(ctx: Ctx, scope: string): void {
  if (hasScope(ctx, scope)) return;
  const what = scope === "*" ? "a claimed key" : `the '${scope}' scope`;
  throw new PermissionError(
    `This agent key is unclaimed and this needs ${what}; unclaimed keys hold ${PRE_CLAIM_SCOPES.join(", ")}. ` +
      `A person can claim it (POST /agent/auth/claim, see /auth.md) to lift the limits.`,
    "SCOPE_REQUIRED",
  );
}

const isCtx = (v: unknown): v is Ctx => typeof v === "object" && v !== null && "actor" in v && "workspaceId" in v;

/**
 * Wraps every service so that each verb called with a ctx checks that ctx's scopes first: REST routes, MCP
 * tools and the CLI all reach the services through this, so none of them can forget the check.
 */
export function guardServices<T extends Record<string, unknown>>(services: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, svc] of Object.entries(services)) out[name] = typeof svc === "object" && svc !== null ? guard(name, svc) : svc;
  return out as T;
}

function guard(name: string, svc: object): object {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(svc, {
    get(target, prop) {
      // The target as receiver: class getters over private fields would throw on the proxy.
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      let w = wrapped.get(prop);
      if (w === undefined) {
        const scope = VERB_SCOPES[`${name}.${String(prop)}`] ?? "*";
        const fn = value as (...args: unknown[]) => unknown;
        // An async verb refuses the way it fails otherwise, with a rejected promise (so `.catch` on the call sees
        // it); its result, a promise or not, passes through untouched. The check runs before the call either way.
        const isAsync = Object.prototype.toString.call(fn) === "[object AsyncFunction]";
        w = function (this: unknown, ...args: unknown[]) {
          if (isCtx(args[0]) && args[0].actor.kind === "agent") {
            try {
              assertScope(args[0], scope);
            } catch (e) {
              if (isAsync) return Promise.reject(e);
              throw e;
            }
          }
          return fn.apply(target, args);
        };
        wrapped.set(prop, w);
      }
      return w;
    },
  });
}
