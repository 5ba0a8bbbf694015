// Slack through @slack/web-api on CLANKER_SLACK_API_URL: connect with a bot token (checked with auth.test) or,
// when CLANKER_SLACK_CLIENT_ID/_SECRET are set, the OAuth v2 web flow; post_message and list_channels.
import type { WebClient } from "@slack/web-api";
import { InvalidRequestError } from "../../../lib/errors";
import type { Config } from "../../../config";
import { integrationAuthFailed, integrationError, integrationRateLimited, mayHaveActed } from "../errors";
import type { IntegrationContext, IntegrationProvider } from "../provider";

const NAME = "Slack";
const SCOPES = "chat:write,channels:read,groups:read";
const AUTH_ERRORS = new Set(["invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission", "missing_scope", "invalid_client_id", "bad_client_secret", "invalid_code", "bad_redirect_uri", "code_already_used"]);
const MAX_CHANNELS = 2000;

// @slack/web-api's ErrorCode values: the package itself loads on first use, so `clanker mcp` starts without it.
const ErrorCode = { PlatformError: "slack_webapi_platform_error", RateLimitedError: "slack_webapi_rate_limited_error", HTTPError: "slack_webapi_http_error" } as const;

async function clientOf(config: Config, token?: string): Promise<WebClient> {
  const { WebClient, LogLevel } = await import("@slack/web-api");
  return new WebClient(token, {
    slackApiUrl: `${config.slack.apiUrl}/`,
    logLevel: LogLevel.ERROR,
    // One attempt, and a 429 is an answer: the caller (or the workflow) decides when to come back.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 15_000,
  });
}

/** Slack's failures as our typed ones, with Slack's own reason. */
function failure(e: unknown): Error {
  const err = e as { code?: string; data?: { error?: string }; retryAfter?: number; statusCode?: number; message?: string };
  switch (err.code) {
    case ErrorCode.PlatformError: {
      const reason = err.data?.error ?? "unknown_error";
      return AUTH_ERRORS.has(reason) ? integrationAuthFailed(NAME, reason) : integrationError(NAME, reason);
    }
    case ErrorCode.RateLimitedError:
      return integrationRateLimited(NAME, err.retryAfter ?? 30);
    case ErrorCode.HTTPError:
      return integrationError(NAME, `Slack answered HTTP ${err.statusCode}`, true);
    default:
      return mayHaveActed(integrationError(NAME, `Slack could not be reached (${err.message ?? "request failed"})`, true), e);
  }
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw failure(e);
  }
}

const oauthConfigured = (config: Config) => config.slack.clientId !== null && config.slack.clientSecret !== null;

async function identify(config: Config, token: string) {
  const who = await call(async () => (await clientOf(config, token)).auth.test());
  return { account: who.team ?? who.team_id ?? null, settings: { teamId: who.team_id ?? null, botUserId: who.user_id ?? null } };
}

export const slackProvider: IntegrationProvider = {
  id: "slack",
  name: NAME,
  description: "Post messages to Slack channels and list them, as a bot (bot token or OAuth app).",
  actions: [
    {
      name: "post_message",
      description: "Post a message to a channel (id like C0123 or name like #general) the bot is a member of.",
      input: {
        type: "object",
        properties: {
          channel: { type: "string", minLength: 1, maxLength: 200, description: "Channel id or name" },
          text: { type: "string", minLength: 1, maxLength: 40000, description: "Message text (Slack mrkdwn)" },
        },
        required: ["channel", "text"],
        additionalProperties: false,
      },
      // Slack reads <!channel>, <@U…> and <url|label> in text: a value from outside (a pull request's title) must not
      // ping a channel or make a link. Slack's own escaping, of the values only; the template's markup stays.
      escape: (v) => v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"),
    },
    {
      name: "list_channels",
      description: "List the workspace's channels the bot can see (public and private), every page.",
      input: { type: "object", properties: {}, additionalProperties: false },
    },
  ],

  configured: () => ({ ok: true }),

  async connect(ctx: IntegrationContext, credentials) {
    const token = credentials?.token;
    if (token === undefined) {
      if (!oauthConfigured(ctx.config) || !ctx.oauth)
        throw new InvalidRequestError("Give a bot token in credentials.token (xoxb-…); OAuth needs CLANKER_SLACK_CLIENT_ID and _SECRET on the server", "credentials.token");
      const u = new URL(`${ctx.config.slack.oauthUrl}/oauth/v2/authorize`);
      u.searchParams.set("client_id", ctx.config.slack.clientId!);
      u.searchParams.set("scope", SCOPES);
      u.searchParams.set("redirect_uri", ctx.oauth.redirectUri);
      u.searchParams.set("state", await ctx.oauth.issueState());
      return { url: u.toString() };
    }
    if (typeof token !== "string" || token.length < 8 || token.length > 500 || /\s/.test(token))
      throw new InvalidRequestError("credentials.token must be a Slack bot token: xoxb- and the rest, 8 to 500 characters, no spaces", "credentials.token");
    const who = await identify(ctx.config, token);
    return { connected: { account: who.account, credentials: { token }, settings: { ...who.settings, via: "token" } } };
  },

  async completeOAuth(ctx, code) {
    const { clientId, clientSecret } = ctx.config.slack;
    const r = await call(async () => (await clientOf(ctx.config)).oauth.v2.access({ client_id: clientId!, client_secret: clientSecret!, code, redirect_uri: ctx.oauth?.redirectUri }));
    if (!r.access_token) throw integrationError(NAME, "the OAuth answer carried no bot token");
    return {
      account: r.team?.name ?? r.team?.id ?? null,
      credentials: { token: r.access_token },
      settings: { teamId: r.team?.id ?? null, botUserId: r.bot_user_id ?? null, scope: r.scope ?? null, via: "oauth" },
    };
  },

  async execute(ctx, action, input) {
    const token = ctx.credentials?.token;
    if (!token) throw integrationAuthFailed(NAME, "no token stored");
    const client = await clientOf(ctx.config, token);
    if (action === "post_message") {
      const r = await call(() => client.chat.postMessage({ channel: input.channel as string, text: input.text as string }));
      return { ok: true, channel: r.channel ?? null, ts: r.ts ?? null };
    }
    const channels: { id: string; name: string; isPrivate: boolean; isMember: boolean }[] = [];
    let truncated = false;
    await call(async () => {
      for await (const page of client.paginate("conversations.list", { limit: 200, types: "public_channel,private_channel", exclude_archived: true })) {
        for (const c of (page as { channels?: { id?: string; name?: string; is_private?: boolean; is_member?: boolean }[] }).channels ?? [])
          channels.push({ id: c.id ?? "", name: c.name ?? "", isPrivate: !!c.is_private, isMember: !!c.is_member });
        if (channels.length >= MAX_CHANNELS) {
          truncated = true;
          break;
        }
      }
    });
    return { channels: channels.slice(0, MAX_CHANNELS), truncated };
  },
};
