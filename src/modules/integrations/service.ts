// Integrations for a workspace: list them with their actions, connect (credentials sealed, or an OAuth URL),
// disconnect (forgets the credentials), execute an action (input checked against its schema, every attempt
// audited), and finish an OAuth web flow (through connections/oauth-flow.ts, shared with connectors). REST, MCP and workflow `action` steps all call these verbs.
import { and, eq, isNotNull } from "drizzle-orm";
import type { Config } from "../../config";
import { assertRole, type Ctx } from "../../lib/context";
import { ApiError, InvalidRequestError, NotFoundError } from "../../lib/errors";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { memberships, users } from "../../store/schema";
import type { ConnectionStore } from "../connections/store";
import type { OAuthStates } from "../connections/oauth-states";
import type { OAuthCallbackMeta, OAuthCallbacks, OAuthConfirmation, OAuthFlow } from "../connections/oauth-flow";
import { integrationError } from "./errors";
import { checkActionInput } from "./input-schema";
import type { IntegrationContext, IntegrationProvider } from "./provider";
import { isJsonObject } from "../../lib/json-object";
import type { LoopMarks } from "../workflows/loop-mark";

const KIND = "integration" as const;

export interface IntegrationsDeps {
  store: Store;
  config: Config;
  connectionStore: ConnectionStore;
  oauthStates: OAuthStates;
  oauthFlow: OAuthFlow;
  providers: Map<string, IntegrationProvider>;
  loopMarks: LoopMarks;
}

export const callbackPath = (id: string) => `/api/v1/integrations/${id}/callback`;

export function createIntegrationsService(d: IntegrationsDeps) {
  const { store, config, connectionStore, oauthStates, providers } = d;

  function providerOf(id: string): IntegrationProvider {
    const p = providers.get(id);
    if (!p) throw new NotFoundError("integration", id);
    return p;
  }

  function oauthProviderOf(id: string): IntegrationProvider {
    const p = providerOf(id);
    if (!p.completeOAuth) throw new NotFoundError("integration", id);
    return p;
  }

  function assertConfigured(p: IntegrationProvider): void {
    const c = p.configured(config);
    if (!c.ok) throw new InvalidRequestError(`${p.name} is not configured on this server: ${c.reason}`, "integration", "INTEGRATION_NOT_CONFIGURED");
  }

  const ictx = (ctx: Ctx, extra: Partial<IntegrationContext> = {}): IntegrationContext => ({
    config,
    workspaceId: ctx.workspaceId,
    credentials: null,
    settings: {},
    role: ctx.role,
    ...extra,
  });

  async function saveConnection(ctx: Ctx, p: IntegrationProvider, c: { account: string | null; credentials: Record<string, string> | null; settings?: Record<string, unknown> }, via: string) {
    await store.tx(async () => {
      await connectionStore.save(ctx.workspaceId, KIND, p.id, { account: c.account, credentials: c.credentials, settings: c.settings, userId: ctx.actor.userId });
      await writeAudit(store, ctx, { action: "integration.connect", resourceType: "integration", resourceId: p.id, metadata: { account: c.account, via } });
    });
    return { integration: p.id, connected: true as const, account: c.account };
  }

  return {
    async list(ctx: Ctx) {
      const connections = new Map((await connectionStore.list(ctx.workspaceId, KIND)).map((c) => [c.provider, c]));
      const connectors = new Set((await connectionStore.list(ctx.workspaceId, "connector")).map((c) => c.provider));
      return {
        data: [...providers.values()].map((p) => {
          // One that acts with a connector's token is not connected while that connector is not (its actions fail).
          const c = p.actsWithConnector === undefined || connectors.has(p.actsWithConnector) ? connections.get(p.id) : undefined;
          const conf = p.configured(config);
          return {
            id: p.id,
            name: p.name,
            description: p.description,
            configured: conf.ok,
            ...(conf.ok ? {} : { reason: conf.reason }),
            connected: c !== undefined,
            account: c?.account ?? null,
            connectedAt: c ? toIso(c.updatedAt) : null,
            actions: p.actions.map((a) => ({ name: a.name, description: a.description, inputSchema: a.input })),
          };
        }),
      };
    },

    /** Action names per integration, for validating workflow `action` steps. */
    actionsOf(id: string): string[] | undefined {
      return providers.get(id)?.actions.map((a) => a.name);
    },

    escapeOf(id: string, action: string): ((value: string) => string) | undefined {
      return providers.get(id)?.actions.find((a) => a.name === action)?.escape;
    },

    /** Credentials checked with the provider and sealed, or `{url}` to finish in the browser (OAuth). */
    async connect(ctx: Ctx, id: string, credentials: Record<string, unknown> | undefined, opts: { baseUrl: string }) {
      const p = providerOf(id);
      assertRole(ctx, "admin", "connect integrations");
      assertConfigured(p);
      const out = await p.connect(
        ictx(ctx, { oauth: { redirectUri: `${opts.baseUrl}${callbackPath(p.id)}`, issueState: () => oauthStates.issue(ctx, KIND, p.id) } }),
        credentials,
      );
      if (out.connected) return saveConnection(ctx, p, out.connected, "credentials");
      if (out.url) return { integration: p.id, connected: false as const, url: out.url };
      throw integrationError(p.name, "the provider gave neither a connection nor a URL");
    },

    async disconnect(ctx: Ctx, id: string) {
      const p = providerOf(id);
      assertRole(ctx, "admin", "disconnect integrations");
      const removed = await store.tx(async () => {
        const removed = await connectionStore.remove(ctx.workspaceId, KIND, p.id);
        if (removed) await writeAudit(store, ctx, { action: "integration.disconnect", resourceType: "integration", resourceId: p.id });
        return removed;
      });
      return { integration: p.id, connected: false as const, disconnected: removed };
    },

    /** Runs one action; the attempt is audited whether the provider succeeds or not. `workflowRun`: the run acting (`run_…`). */
    async execute(ctx: Ctx, id: string, action: string, rawInput: unknown, workflowRun?: string): Promise<Record<string, unknown>> {
      const p = providerOf(id);
      const spec = p.actions.find((a) => a.name === action);
      if (!spec) throw new InvalidRequestError(`${p.name} has no action '${action}'; it has ${p.actions.map((a) => a.name).join(", ")}`, "action", "UNKNOWN_ACTION");
      const input = checkActionInput(rawInput, spec.input);
      assertConfigured(p);
      const conn = await connectionStore.get(ctx.workspaceId, KIND, p.id);
      if (!conn) throw new InvalidRequestError(`${p.name} is not connected in this workspace; an owner or admin can connect it`, "integration", "INTEGRATION_NOT_CONNECTED");
      let result: unknown;
      let failure: ApiError | null = null;
      try {
        const loopMark = workflowRun === undefined ? undefined : d.loopMarks.mark;
        result = await p.execute(ictx(ctx, { credentials: conn.credentials, settings: conn.settings, loopMark }), action, input);
      } catch (e) {
        failure = e instanceof ApiError ? e : integrationError(p.name, (e as Error).message ?? "failed", true);
      }
      await store.tx(() =>
        writeAudit(store, ctx, {
          action: "integration.action",
          resourceType: "integration",
          resourceId: p.id,
          metadata: { action, ok: failure === null, ...(failure ? { code: failure.code ?? failure.type } : {}) },
        }),
      );
      if (failure) throw failure;
      return (isJsonObject(result) ? result : { result }) as Record<string, unknown>;
    },

    /** The OAuth callback's two steps (confirmation page, then the confirmed exchange), shared with connectors. */
    oauth: {
      serviceName: (id: string) => providers.get(id)?.name ?? id,
      async pending(id: string, state: string, signedInUserId: number | null) {
        const p = oauthProviderOf(id);
        return { service: p.name, ...(await d.oauthFlow.pending(KIND, p.id, state, signedInUserId)) };
      },
      async complete(id: string, input: OAuthConfirmation, meta: OAuthCallbackMeta) {
        const p = oauthProviderOf(id);
        const oauth = { redirectUri: `${meta.baseUrl}${callbackPath(p.id)}`, issueState: async () => "" };
        const r = await d.oauthFlow.complete({ kind: KIND, provider: p.id, ...input, ...meta, exchange: (ctx) => p.completeOAuth!(ictx(ctx, { oauth }), input.code) });
        return { service: p.name, account: r.account };
      },
    } satisfies OAuthCallbacks,
  };
}

/** The lower-cased addresses of a workspace's members: an address is on a user only once a code proved it. */
export async function memberEmailsOf(store: Store, workspaceId: number): Promise<string[]> {
  const rows = await store.db
    .select({ email: users.email })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.workspaceId, workspaceId), isNotNull(users.email)));
  return rows.map((r) => r.email!.toLowerCase());
}

export type IntegrationsService = ReturnType<typeof createIntegrationsService>;
