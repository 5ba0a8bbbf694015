// /api/v1/integrations: list, connect, disconnect, execute an action; and the OAuth callback (connections/callback-routes.ts).
import { t } from "elysia";
import { idempotent } from "../../http/idempotent-route";
import type { Platform } from "../../http/platform";
import { baseUrl } from "../../http/origin";
import { oauthCallbackRoutes } from "../connections/callback-routes";
import { noBody } from "../../http/schemas";

const name = t.String({ minLength: 1, maxLength: 50, description: "Integration id: slack, github, email, webhook" });
const integration = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.String(),
  configured: t.Boolean(),
  reason: t.Optional(t.String()),
  connected: t.Boolean(),
  account: t.Nullable(t.String()),
  connectedAt: t.Nullable(t.String()),
  actions: t.Array(t.Object({ name: t.String(), description: t.String(), inputSchema: t.Record(t.String(), t.Unknown()) })),
});
const connection = t.Object({
  integration: t.String(),
  connected: t.Boolean(),
  account: t.Optional(t.Nullable(t.String())),
  url: t.Optional(t.String()),
  disconnected: t.Optional(t.Boolean()),
});
const tags = ["Integrations"];

export const integrationsRoutes = (app: Platform) =>
  app
    .use(oauthCallbackRoutes({ prefix: "/api/v1/integrations", param: "integration", tags, callbacks: (s) => s.integrations.oauth }))
    .get("/api/v1/integrations", ({ ctx, deps }) => deps.services.integrations.list(ctx), {
      auth: true,
      response: t.Object({ data: t.Array(integration) }),
      detail: { tags, summary: "List integrations with their actions (input schemas) and whether each is connected" },
    })
    .post(
      "/api/v1/integrations/:integration/connect",
      ({ ctx, deps, params, body, request }) => deps.services.integrations.connect(ctx, params.integration, body?.credentials, { baseUrl: baseUrl(deps.config, request) }),
      {
        auth: true,
        params: t.Object({ integration: name }),
        body: t.Optional(
          t.Object(
            {
              credentials: t.Optional(
                t.Record(t.String(), t.Unknown(), {
                  description: 'slack: {"token":"xoxb-…"} or nothing for the OAuth URL; webhook: {"url"}; email: {"allowRecipients":[…]} (owners only) or nothing',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: connection,
        detail: { tags, summary: "Connect an integration (owners and admins): credentials checked and sealed, or an OAuth URL to open" },
      },
    )
    .delete("/api/v1/integrations/:integration", ({ ctx, deps, params }) => deps.services.integrations.disconnect(ctx, params.integration), {
      body: noBody,
      auth: true,
      params: t.Object({ integration: name }),
      response: connection,
      detail: { tags, summary: "Disconnect an integration and forget its credentials (owners and admins)" },
    })
    .post(
      "/api/v1/integrations/:integration/actions/:action",
      // A retry under the same idempotency-key posts nothing again (the action acts outside the store: see RunOptions).
      ({ ctx, deps, params, body, request, set }) =>
        idempotent({ ctx, deps, body, request, set }, () => deps.services.integrations.execute(ctx, params.integration, params.action, body?.input ?? {}), { tx: { acts: true } }),
      {
        auth: true,
        params: t.Object({ integration: name, action: t.String({ minLength: 1, maxLength: 100 }) }),
        body: t.Optional(t.Object({ input: t.Optional(t.Record(t.String(), t.Unknown())) }, { additionalProperties: false })),
        response: t.Record(t.String(), t.Unknown()),
        detail: { tags, summary: "Execute an integration action; input is checked against the action's schema" },
      },
    );
