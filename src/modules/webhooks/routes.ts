// /api/v1/webhooks/secret: the signing secret for callbackUrl deliveries (show, rotate).
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { integer } from "../../http/schemas";
import { MAX_OVERLAP_SECONDS } from "./signing";

const secret = t.Object({
  secret: t.String(),
  signatureHeader: t.String(),
  scheme: t.String(),
  standardSecret: t.String({ description: "The same key as Standard Webhooks libraries take it (whsec_<base64>); equal to secret for secrets made since" }),
  previousSecretExpiresAt: t.Nullable(
    t.String({ description: "ISO 8601 UTC: until when the secret before the last rotation still signs beside this one (a second v1 in each header); null when it does not" }),
  ),
});

export const webhooksRoutes = (app: Platform) =>
  app
    .get("/api/v1/webhooks/secret", ({ ctx, deps }) => deps.services.webhooks.show(ctx), {
      auth: true,
      response: secret,
      detail: { tags: ["Webhooks"], summary: "The workspace's webhook signing secret" },
    })
    .post("/api/v1/webhooks/secret/rotate", ({ ctx, deps, body }) => deps.services.webhooks.rotate(ctx, body ?? {}), {
      body: t.Optional(
        t.Object(
          {
            previousSecretValidSeconds: t.Optional(
              integer({ minimum: 0, maximum: MAX_OVERLAP_SECONDS, description: "How long the old secret goes on signing beside the new one (default 0: it stops at once)" }),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      auth: true,
      response: secret,
      detail: { tags: ["Webhooks"], summary: "Rotate the webhook signing secret" },
    });
