// /api/v1/webhooks/secret: the signing secret for callbackUrl deliveries (show, rotate).
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { noBody } from "../../http/schemas";

const secret = t.Object({
  secret: t.String(),
  signatureHeader: t.String(),
  scheme: t.String(),
  standardSecret: t.String({ description: "The same key as Standard Webhooks libraries take it (whsec_<base64>); equal to secret for secrets made since" }),
});

export const webhooksRoutes = (app: Platform) =>
  app
    .get("/api/v1/webhooks/secret", ({ ctx, deps }) => deps.services.webhooks.show(ctx), {
      auth: true,
      response: secret,
      detail: { tags: ["Webhooks"], summary: "The workspace's webhook signing secret" },
    })
    .post("/api/v1/webhooks/secret/rotate", ({ ctx, deps }) => deps.services.webhooks.rotate(ctx), {
      body: noBody,
      auth: true,
      response: secret,
      detail: { tags: ["Webhooks"], summary: "Rotate the webhook signing secret" },
    });
