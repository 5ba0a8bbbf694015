// Connectors: which sources a workspace can read (github, local, remote), connecting and disconnecting them
// (owners/admins, audited, tokens sealed), and reading sources, branches and content. Shared by REST, MCP and runs.
import { mkdirSync } from "node:fs";
import { and, eq } from "drizzle-orm";
import { join } from "node:path";
import type { Config } from "../../config";
import { assertRole, type Ctx } from "../../lib/context";
import { InvalidRequestError, NotFoundError } from "../../lib/errors";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { memberships } from "../../store/schema";
import { serverOwnerId } from "../users/service";
import type { ConnectionStore } from "../connections/store";
import type { OAuthStates } from "../connections/oauth-states";
import type { OAuthCallbackMeta, OAuthCallbacks, OAuthConfirmation, OAuthFlow } from "../connections/oauth-flow";
import type { ConnectorContext, ConnectorProvider } from "./provider";
import type { ConnectorRegistry } from "./registry";
import { gatherSourceContext } from "./context";
import { hasRemoteSource, storedOf } from "./providers/remote";
import { connectorTarget, type Connector } from "../executions/prompt";

export interface ConnectorsDeps {
  store: Store;
  config: Config;
  connections: ConnectionStore;
  oauthStates: OAuthStates;
  oauthFlow: OAuthFlow;
  registry: ConnectorRegistry;
}

export const SOURCES_MAX_LIMIT = 100;

export function createConnectorsService(d: ConnectorsDeps) {
  const { store, config, connections, registry } = d;
  const cacheDir = join(config.dataDir, "cache", "connectors");

  function providerOf(id: string): ConnectorProvider {
    const p = registry.get(id);
    if (!p) throw new NotFoundError("connector", id);
    return p;
  }

  function oauthProviderOf(id: string): ConnectorProvider {
    const p = providerOf(id);
    if (!p.completeOAuth) throw new NotFoundError("connector", id);
    return p;
  }

  /** Whether the server's owner (its first user: the operator) is a member of the workspace. */
  async function readsServerFolders(workspaceId: number): Promise<boolean> {
    const [row] = await store.db
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, serverOwnerId())));
    return row !== undefined;
  }

  /** The server's set-up for the connector, and for one that serves the server's folders, the workspace's right to them. */
  function configuredFor(p: ConnectorProvider, readsFolders: boolean) {
    const conf = p.configured(config);
    if (!conf.ok || !p.serverFolders || readsFolders) return conf;
    return { ok: false as const, reason: "this server's folders are shared with the workspaces its owner is a member of; ask the server's owner to invite you to one" };
  }

  async function statusOf(workspaceId: number, p: ConnectorProvider) {
    const conf = configuredFor(p, p.serverFolders === true && (await readsServerFolders(workspaceId)));
    const c = p.needsConnection ? await connections.get(workspaceId, "connector", p.id) : null;
    return {
      id: p.id,
      connector: p.id,
      name: p.name,
      description: p.description,
      configured: conf.ok,
      ...(conf.ok ? {} : { reason: conf.reason }),
      needsConnection: p.needsConnection,
      // A connector that needs no connection is ready whenever the server is set up for it.
      connected: p.needsConnection ? c !== null : conf.ok,
      account: c?.account ?? null,
      connectedAt: c ? new Date(c.updatedAt).toISOString() : null,
    };
  }

  /** What a provider needs to act for ctx's workspace; refuses when the server or the workspace is not set up. */
  async function contextFor(workspaceId: number, p: ConnectorProvider): Promise<ConnectorContext> {
    const readsFolders = await readsServerFolders(workspaceId);
    const conf = configuredFor(p, readsFolders);
    if (!conf.ok) throw new InvalidRequestError(`The ${p.id} connector is not configured on this server: ${conf.reason}`, "connector", "CONNECTOR_NOT_CONFIGURED");
    let credentials: Record<string, string> | null = null;
    let settings: Record<string, unknown> = {};
    if (p.needsConnection) {
      const c = await connections.get(workspaceId, "connector", p.id);
      if (!c) throw new InvalidRequestError(`Connect ${p.id} first (connect-connector, or POST /api/v1/connectors/${p.id}/connect)`, "connector", "CONNECTOR_NOT_CONNECTED");
      credentials = c.credentials;
      settings = c.settings;
    }
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    return { config, credentials, settings, cacheDir, workspaceId, readsServerFolders: readsFolders };
  }

  async function save(ctx: Ctx, p: ConnectorProvider, c: NonNullable<Awaited<ReturnType<ConnectorProvider["connect"]>>["connected"]>, via: string) {
    await store.tx(async () => {
      const settings = c.settingsFrom ? c.settingsFrom((await connections.get(ctx.workspaceId, "connector", p.id))?.settings ?? {}) : c.settings;
      await connections.save(ctx.workspaceId, "connector", p.id, { account: c.account, credentials: c.credentials, settings, userId: ctx.actor.userId });
      await writeAudit(store, ctx, { action: "connector.connect", resourceType: "connector", resourceId: p.id, metadata: { account: c.account, via, ...(c.source ? { source: c.source.id } : {}) } });
    });
    return { connector: p.id, connected: true as const, account: c.account, ...(c.source ? { source: c.source } : {}) };
  }

  /** Removes one added source (remote), keeping the others; the connection goes when its last source does. */
  async function forgetSource(ctx: Ctx, p: ConnectorProvider, source: string) {
    if (!p.forgetSource) throw new InvalidRequestError(`${p.id} sources are not added one by one; disconnect the connector instead`, "source");
    const forget = p.forgetSource.bind(p);
    return store.tx(async () => {
      const c = await connections.get(ctx.workspaceId, "connector", p.id);
      const settings = c ? forget(c.settings, source) : null;
      if (!c || !settings) throw new NotFoundError("source", source);
      const left = Array.isArray(settings.sources) ? settings.sources.length : 1;
      if (left === 0) await connections.remove(ctx.workspaceId, "connector", p.id);
      else await connections.save(ctx.workspaceId, "connector", p.id, { account: c.account, credentials: c.credentials, settings, userId: ctx.actor.userId });
      await writeAudit(store, ctx, { action: "connector.source_remove", resourceType: "connector", resourceId: p.id, metadata: { source } });
      return { connector: p.id, connected: left > 0, disconnected: left === 0, source };
    });
  }

  const readCtx = async (ctx: Ctx, connector: string) => {
    const p = providerOf(connector);
    return { p, pc: await contextFor(ctx.workspaceId, p) };
  };

  return {
    async list(ctx: Ctx) {
      const data = [];
      for (const p of registry.all()) data.push(await statusOf(ctx.workspaceId, p));
      return { data };
    },

    status(ctx: Ctx, connector: string) {
      return statusOf(ctx.workspaceId, providerOf(connector));
    },

    /**
     * With a token: checked, sealed and stored. Without one, for OAuth providers: the authorize URL to visit.
     * With a url (remote): the repository is fetched once and added to the workspace's sources.
     */
    async connect(ctx: Ctx, connector: string, input: { token?: string; url?: string }, redirectUri: string) {
      const p = providerOf(connector);
      assertRole(ctx, "admin", "connect connectors");
      const readsFolders = await readsServerFolders(ctx.workspaceId);
      const conf = configuredFor(p, readsFolders);
      if (!conf.ok) throw new InvalidRequestError(`The ${p.id} connector is not configured on this server: ${conf.reason}`, "connector", "CONNECTOR_NOT_CONFIGURED");
      if (!p.needsConnection) return { connector: p.id, connected: true as const, account: null };
      // The current settings, for connectors that add to them (remote); the credentials are never reused.
      const settings = (await connections.get(ctx.workspaceId, "connector", p.id))?.settings ?? {};
      const pc: ConnectorContext = { config, credentials: null, settings, cacheDir, workspaceId: ctx.workspaceId, readsServerFolders: readsFolders };
      mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      if (input.url !== undefined) {
        const r = await p.connect(pc, { url: input.url });
        if (!r.connected) throw new InvalidRequestError(`${p.id} does not connect by url`, "url");
        return save(ctx, p, r.connected, "url");
      }
      if (input.token === undefined && p.completeOAuth) {
        // The state is issued first (and audited) so the URL the provider builds carries it; in the same tx, so a
        // provider that refuses (no OAuth app configured) leaves no state and no oauth_start. Building the URL sends
        // nothing anywhere.
        const r = await store.tx(async () => {
          const state = await d.oauthStates.issue(ctx, "connector", p.id);
          await writeAudit(store, ctx, { action: "connector.oauth_start", resourceType: "connector", resourceId: p.id });
          return p.connect(pc, { state, redirectUri });
        });
        if (r.url) return { connector: p.id, connected: false as const, url: r.url };
        if (!r.connected) throw new InvalidRequestError(`${p.id} needs a token`, "token");
        return save(ctx, p, r.connected, "token");
      }
      const r = await p.connect(pc, input.token === undefined ? {} : { token: input.token });
      if (!r.connected) throw new InvalidRequestError(`${p.id} could not be connected with this token`, "token");
      return save(ctx, p, r.connected, "token");
    },

    /** The OAuth callback's two steps (confirmation page, then the confirmed exchange), shared with integrations. */
    oauth: {
      serviceName: (id: string) => registry.get(id)?.name ?? id,
      async pending(id: string, state: string, signedInUserId: number | null) {
        const p = oauthProviderOf(id);
        return { service: p.name, ...(await d.oauthFlow.pending("connector", p.id, state, signedInUserId)) };
      },
      async complete(id: string, input: OAuthConfirmation, meta: OAuthCallbackMeta) {
        const p = oauthProviderOf(id);
        const redirectUri = `${meta.baseUrl}/api/v1/connectors/${p.id}/callback`;
        const r = await d.oauthFlow.complete({
          kind: "connector",
          provider: p.id,
          ...input,
          ...meta,
          exchange: () => p.completeOAuth!({ config, credentials: null, settings: {}, cacheDir, workspaceId: null, readsServerFolders: false }, { code: input.code, redirectUri }),
        });
        return { service: p.name, account: r.account };
      },
    } satisfies OAuthCallbacks,

    /** Forgets the workspace's connection and its token. */
    async disconnect(ctx: Ctx, connector: string, opts: { source?: string } = {}) {
      const p = providerOf(connector);
      assertRole(ctx, "admin", "disconnect connectors");
      if (opts.source !== undefined) return forgetSource(ctx, p, opts.source);
      const removed = await store.tx(async () => {
        const had = await connections.remove(ctx.workspaceId, "connector", p.id);
        if (had) await writeAudit(store, ctx, { action: "connector.disconnect", resourceType: "connector", resourceId: p.id });
        return had;
      });
      return { connector: p.id, connected: false as const, disconnected: removed };
    },

    async sources(ctx: Ctx, connector: string, page: { limit?: number; cursor?: string | null }) {
      const limit = page.limit ?? 30;
      if (!Number.isInteger(limit) || limit < 1 || limit > SOURCES_MAX_LIMIT) throw new InvalidRequestError(`limit must be 1–${SOURCES_MAX_LIMIT}`, "limit");
      const { p, pc } = await readCtx(ctx, connector);
      const r = await p.listSources(pc, { limit, cursor: page.cursor ?? null });
      return { data: r.data, has_more: r.nextCursor !== null, next_cursor: r.nextCursor };
    },

    async branches(ctx: Ctx, connector: string, source: string) {
      const { p, pc } = await readCtx(ctx, connector);
      return { data: await p.listBranches(pc, source) };
    },

    async content(ctx: Ctx, connector: string, source: string, opts: { path?: string; ref?: string | null }) {
      const { p, pc } = await readCtx(ctx, connector);
      return p.content(pc, source, { path: opts.path ?? "", ref: opts.ref || null, maxBytes: config.connectors.maxSourceBytes });
    },

    /**
     * A run's connector, checked before the run exists: this server has it and the workspace can read it. The
     * spec's `{"type":"remote","fields":{}}` names no source: it means the workspace's one remote source.
     */
    async forRun<C extends { type: string; fields: Record<string, unknown> }>(workspaceId: number, c: C): Promise<C> {
      const p = registry.get(c.type);
      if (!p) throw new InvalidRequestError(`This server has no '${c.type}' connector`, "connector.type", "CONNECTOR_UNAVAILABLE");
      const pc = await contextFor(workspaceId, p);
      if (c.type !== "remote") return c;
      const named = c.fields.source ?? c.fields.url;
      if (named !== undefined) {
        // Refused now, as list-sources and the source routes refuse it: a run accepted here would fail at its start.
        if (!hasRemoteSource(pc.settings, String(named))) throw new NotFoundError("remote source", String(named));
        return c;
      }
      const added = storedOf(pc.settings);
      if (added.length !== 1)
        throw new InvalidRequestError(
          `This workspace has ${added.length} remote sources: name one in fields.source (list-sources shows them)`,
          "connector.fields.source",
        );
      return { ...c, fields: { ...c.fields, source: added[0]!.url } };
    },

    /** For runs: reads the run's source within the budget; the text for the model and the record of what it holds. */
    async sourceContext(workspaceId: number, c: { type: string; fields: Record<string, unknown> }) {
      const reader = await this.readerFor(workspaceId, c.type);
      const t = connectorTarget(c as Connector);
      return gatherSourceContext((path, ref) => reader.content(t.source, path, ref), { connector: c.type, ...t }, config.connectors.runBudgetBytes);
    },

    /** For runs (no caller ctx: the run's workspace): the provider and its context. */
    async readerFor(workspaceId: number, connector: string) {
      const p = providerOf(connector);
      const pc = await contextFor(workspaceId, p);
      return {
        content: (source: string, path: string, ref: string | null) => p.content(pc, source, { path, ref, maxBytes: config.connectors.maxSourceBytes }),
      };
    },
  };
}

export type ConnectorsService = ReturnType<typeof createConnectorsService>;
