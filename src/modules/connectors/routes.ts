// /api/v1/connectors: list, status, connect (token or OAuth URL), disconnect, sources, branches, content, and the
// public OAuth callback (connections/callback-routes.ts). `:source` is URL-encoded (`owner%2Frepo`).
import { t } from "elysia";
import { integer, noBody } from "../../http/schemas";
import type { Platform } from "../../http/platform";
import { baseUrl } from "../../http/origin";
import { oauthCallbackRoutes } from "../connections/callback-routes";

export const connectorStatus = t.Object({
  id: t.String(),
  connector: t.String(),
  name: t.String(),
  description: t.String(),
  configured: t.Boolean(),
  reason: t.Optional(t.String()),
  needsConnection: t.Boolean(),
  connected: t.Boolean(),
  account: t.Nullable(t.String()),
  connectedAt: t.Nullable(t.String()),
});

const source = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.Optional(t.Nullable(t.String())),
  defaultBranch: t.Optional(t.Nullable(t.String())),
  private: t.Optional(t.Boolean()),
  url: t.Optional(t.Nullable(t.String())),
});

const content = t.Union([
  t.Object({ type: t.Literal("file"), path: t.String(), ref: t.Nullable(t.String()), size: integer(), content: t.String(), encoding: t.Optional(t.Literal("base64")) }),
  t.Object({
    type: t.Literal("dir"),
    path: t.String(),
    ref: t.Nullable(t.String()),
    entries: t.Array(t.Object({ name: t.String(), type: t.String(), size: t.Nullable(integer()) })),
  }),
]);

const connectorParam = t.Object({ connector: t.String({ maxLength: 50 }) });
const sourceParams = t.Object({ connector: t.String({ maxLength: 50 }), source: t.String({ minLength: 1, maxLength: 2048 }) });
const tags = ["Connectors"];

/** Where the OAuth provider sends the browser back. */
export const callbackUrl = (base: string, connector: string) => `${base}/api/v1/connectors/${connector}/callback`;

export const connectorsRoutes = (app: Platform) =>
  app
    .use(oauthCallbackRoutes({ prefix: "/api/v1/connectors", param: "connector", tags, callbacks: (s) => s.connectors.oauth }))
    .get("/api/v1/connectors", ({ ctx, deps }) => deps.services.connectors.list(ctx), {
      auth: true,
      response: t.Object({ data: t.Array(connectorStatus) }),
      detail: { tags, summary: "List connectors: configured, connected, account" },
    })
    .get("/api/v1/connectors/:connector", ({ ctx, deps, params }) => deps.services.connectors.status(ctx, params.connector), {
      auth: true,
      params: connectorParam,
      response: connectorStatus,
      detail: { tags, summary: "A connector's status" },
    })
    .post(
      "/api/v1/connectors/:connector/connect",
      ({ ctx, deps, params, body, request }) =>
        deps.services.connectors.connect(ctx, params.connector, body ?? {}, callbackUrl(baseUrl(deps.config, request), params.connector)),
      {
        auth: true,
        params: connectorParam,
        body: t.Optional(
          t.Object(
            {
              token: t.Optional(t.String({ minLength: 1, maxLength: 1000, description: "A personal access token (github)" })),
              url: t.Optional(t.String({ minLength: 1, maxLength: 2048, description: "A git repository's URL to add as a source (remote): https, or file:// inside the local source roots" })),
            },
            { additionalProperties: false },
          ),
        ),
        response: t.Object({ connector: t.String(), connected: t.Boolean(), account: t.Optional(t.Nullable(t.String())), url: t.Optional(t.String()), source: t.Optional(source) }),
        detail: { tags, summary: "Connect with a token, get the OAuth authorize URL, or add a remote repository by url (owners and admins)" },
      },
    )
    .delete("/api/v1/connectors/:connector", ({ ctx, deps, params, query }) => deps.services.connectors.disconnect(ctx, params.connector, { source: query.source }), {
      body: noBody,
      auth: true,
      params: connectorParam,
      query: t.Object({ source: t.Optional(t.String({ minLength: 1, maxLength: 2048, description: "remote: remove only this added source (its URL)" })) }),
      response: t.Object({ connector: t.String(), connected: t.Boolean(), disconnected: t.Boolean(), source: t.Optional(t.String()) }),
      detail: { tags, summary: "Disconnect and forget the token, or remove one added remote source (owners and admins)" },
    })
    .get(
      "/api/v1/connectors/:connector/sources",
      ({ ctx, deps, params, query }) => deps.services.connectors.sources(ctx, params.connector, { limit: query.limit, cursor: query.cursor }),
      {
        auth: true,
        params: connectorParam,
        query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, description: "1–100, default 30" })), cursor: t.Optional(t.String({ maxLength: 200 })) }),
        response: t.Object({ data: t.Array(source), has_more: t.Boolean(), next_cursor: t.Nullable(t.String()) }),
        detail: { tags, summary: "List sources (repositories, local roots), paged by cursor" },
      },
    )
    .get(
      "/api/v1/connectors/:connector/sources/:source/branches",
      ({ ctx, deps, params }) => deps.services.connectors.branches(ctx, params.connector, params.source),
      {
        auth: true,
        params: sourceParams,
        response: t.Object({ data: t.Array(t.Object({ name: t.String(), sha: t.Nullable(t.String()), default: t.Optional(t.Boolean()) })) }),
        detail: { tags, summary: "List a source's branches" },
      },
    )
    .get(
      "/api/v1/connectors/:connector/sources/:source/content",
      ({ ctx, deps, params, query }) => deps.services.connectors.content(ctx, params.connector, params.source, { path: query.path, ref: query.ref }),
      {
        auth: true,
        params: sourceParams,
        query: t.Object({ path: t.Optional(t.String({ maxLength: 4096 })), ref: t.Optional(t.String({ maxLength: 255 })) }),
        response: content,
        detail: { tags, summary: "A file (text, or base64 with encoding) or a directory listing at a ref" },
      },
    );
