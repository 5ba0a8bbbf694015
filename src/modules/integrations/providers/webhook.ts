// The webhook integration: POSTs a JSON payload to the URL saved at connect time (sealed: such URLs often carry
// a token), signed with the workspace's webhook secret under its own scheme (clanker-integration-signature over
// "<t>.integration.<body>", never a valid clanker-signature: a member cannot forge our callbacks), through the
// guarded fetch (SSRF rules at connect time and again, with DNS, at every post).
import { InvalidRequestError } from "../../../lib/errors";
import { guardedFetch, OutboundRefused, urlProblem } from "../../../lib/outbound";
import { integrationError, integrationRateLimited, mayHaveActed, retryAfterSeconds } from "../errors";
import type { IntegrationProvider } from "../provider";

const NAME = "Webhook";
const TIMEOUT_MS = 10_000;
const MAX_PAYLOAD_BYTES = 256 * 1024;

export interface WebhookProviderDeps {
  /** The clanker-integration-signature header value for this body (see webhooks service). */
  integrationSignatureFor(workspaceId: number, body: string): Promise<string>;
  allowPrivate: boolean;
}

export function createWebhookProvider(deps: WebhookProviderDeps): IntegrationProvider {
  const check = (raw: unknown, param: string): URL => {
    if (typeof raw !== "string" || raw.length > 2048) throw new InvalidRequestError(`${param} must be an http(s) URL of at most 2048 characters`, param);
    const problem = urlProblem(raw, deps.allowPrivate);
    if (problem) throw new InvalidRequestError(`${param} ${problem}`, param);
    return new URL(raw);
  };

  return {
    id: "webhook",
    name: NAME,
    description: "POST JSON signed with the workspace's webhook secret (clanker-integration-signature) to the URL saved when connecting.",
    actions: [
      {
        name: "post",
        description:
          "POST the payload as JSON to the saved URL. `url` may name another path on the same origin (scheme, host and port) as the saved URL, never another host.",
        input: {
          type: "object",
          properties: {
            url: { type: "string", minLength: 1, maxLength: 2048, description: "Optional: another path on the saved URL's origin" },
            payload: { description: "Any JSON value; sent as the request body" },
          },
          required: ["payload"],
          additionalProperties: false,
        },
      },
    ],

    configured: () => ({ ok: true }),

    async connect(_ctx, credentials) {
      const url = check(credentials?.url, "credentials.url");
      return { connected: { account: url.host, credentials: { url: url.toString() }, settings: {} } };
    },

    async execute(ctx, _action, input) {
      const saved = ctx.credentials?.url;
      if (!saved) throw integrationError(NAME, "no URL saved; connect the integration again");
      let target = new URL(saved);
      if (input.url !== undefined) {
        const asked = check(input.url, "input.url");
        if (asked.origin !== target.origin) throw new InvalidRequestError(`input.url must be on ${target.origin}, the origin saved when connecting`, "input.url");
        target = asked;
      }
      const body = JSON.stringify(input.payload);
      if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) throw new InvalidRequestError(`input.payload is limited to ${MAX_PAYLOAD_BYTES} bytes of JSON`, "input.payload");
      const signature = await deps.integrationSignatureFor(ctx.workspaceId, body);
      let res: Response;
      try {
        res = await guardedFetch(
          target.toString(),
          {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "user-agent": "Clanker-Webhooks/1",
              "clanker-event": "integration.webhook.post",
              "clanker-integration-signature": signature,
            },
            body,
          },
          { allowPrivate: deps.allowPrivate, timeoutMs: TIMEOUT_MS },
        );
      } catch (e) {
        if (e instanceof OutboundRefused) throw integrationError(NAME, `refused: ${e.message}`);
        throw mayHaveActed(integrationError(NAME, `the receiver could not be reached (${(e as Error).message})`, true), e);
      }
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 429) throw integrationRateLimited(NAME, retryAfterSeconds(res.headers.get("retry-after")));
      if (res.status < 200 || res.status >= 300) throw integrationError(NAME, `the receiver answered ${res.status}`, res.status >= 500);
      // Not the path: it may carry the receiver's token.
      return { delivered: true, status: res.status, origin: target.origin };
    },
  };
}
