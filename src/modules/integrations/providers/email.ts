// The email integration: send_email through the server's SMTP (CLANKER_SMTP_URL), only to verified members of
// the workspace (people who proved their address by a code) unless the owner listed other recipients when
// connecting ({"allowRecipients": ["someone@example.com", "@partner.example"]}).
import { InvalidRequestError, PermissionError } from "../../../lib/errors";
import { normalizeEmail } from "../../users/service";
import type { Mail } from "../../signin/mailer";
import { integrationAuthFailed, integrationError, mayHaveActed } from "../errors";
import type { IntegrationProvider } from "../provider";

const NAME = "Email";
const MAX_ALLOWED = 100;
/** An @domain, in ASCII or Unicode (its spelling is checked as an address's domain is, by mailbox()). */
const DOMAIN_RE = /^@[^\s@]+\.[^\s@]+$/;

export interface EmailProviderDeps {
  /** Sends through SMTP; null when the server has no CLANKER_SMTP_URL. */
  send: ((mail: Mail) => Promise<void>) | null;
  /** The lower-cased addresses of the workspace's members (an address on a user was verified by a code). */
  memberEmails(workspaceId: number): Promise<string[]>;
}

/**
 * The one mailbox an address names, as sign-in spells it (so a member's address compares equal), or null. `%` and `!`
 * are refused too: some relays still route `user%other.host@relay` and `host!user@relay` onwards, past an @domain allowed.
 */
function mailbox(raw: string): string | null {
  try {
    const address = normalizeEmail(raw);
    return /[%!]/.test(address.slice(0, address.lastIndexOf("@"))) ? null : address;
  } catch {
    return null;
  }
}

function allowedList(raw: unknown): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > MAX_ALLOWED) throw new InvalidRequestError(`credentials.allowRecipients must be a list of at most ${MAX_ALLOWED} addresses or @domains`, "credentials.allowRecipients");
  return raw.map((v, i) => {
    const s = typeof v === "string" ? v.trim() : "";
    // An @domain is kept as a mailbox's domain is spelled (lower case, IDNA's Unicode form), so the two compare.
    const allowed = DOMAIN_RE.test(s) ? mailbox(`x${s}`)?.slice(1) : mailbox(s);
    if (!allowed) throw new InvalidRequestError(`credentials.allowRecipients.${i} must be an address (someone@example.com) or an @domain (@example.com)`, `credentials.allowRecipients.${i}`);
    return allowed;
  });
}

export function createEmailProvider(deps: EmailProviderDeps): IntegrationProvider {
  return {
    id: "email",
    name: NAME,
    description: "Send plain-text email through the server's SMTP, to verified members of the workspace (and recipients the owner allowed).",
    actions: [
      {
        name: "send_email",
        description: "Send a plain-text email to one recipient: a verified member of this workspace, or an address the owner allowed when connecting.",
        input: {
          type: "object",
          properties: {
            to: { type: "string", format: "email", maxLength: 320, description: "Recipient address" },
            subject: { type: "string", minLength: 1, maxLength: 500, description: "Subject line (one line)" },
            text: { type: "string", minLength: 1, maxLength: 200000, description: "Plain-text body" },
          },
          required: ["to", "subject", "text"],
          additionalProperties: false,
        },
      },
    ],

    configured: () => (deps.send ? { ok: true } : { ok: false, reason: "set CLANKER_SMTP_URL to send email" }),

    async connect(ctx, credentials) {
      const extra = Object.keys(credentials ?? {}).find((k) => k !== "allowRecipients");
      if (extra) throw new InvalidRequestError(`credentials.${extra} is not a setting of email (only allowRecipients)`, `credentials.${extra}`);
      const allowRecipients = allowedList(credentials?.allowRecipients);
      // Mail to outsiders speaks for the whole workspace: only its owner opens that door.
      if (allowRecipients.length > 0 && ctx.role !== "owner")
        throw new PermissionError("Only workspace owners can allow recipients outside the workspace's members", "ROLE_REQUIRED");
      return { connected: { account: null, credentials: null, settings: { allowRecipients } } };
    },

    async execute(ctx, _action, input) {
      if (!deps.send) throw integrationError(NAME, "the server has no CLANKER_SMTP_URL", true);
      const to = mailbox(input.to as string);
      if (!to) throw new InvalidRequestError("input.to must be one address (name@example.com), without a display name or a route", "input.to");
      const subject = input.subject as string;
      if (/[\r\n]/.test(subject)) throw new InvalidRequestError("input.subject must be one line", "input.subject");
      const domain = to.slice(to.lastIndexOf("@"));
      const allowed = ((ctx.settings.allowRecipients as string[] | undefined) ?? []).some((a) => (a.startsWith("@") ? a === domain : a === to));
      if (!allowed && !(await deps.memberEmails(ctx.workspaceId)).includes(to))
        throw new PermissionError(`${to} is not a verified member of this workspace; the owner can allow other recipients when connecting email`, "EMAIL_RECIPIENT_NOT_ALLOWED");
      try {
        await deps.send({ to, subject, text: input.text as string });
      } catch (e) {
        const err = e as { code?: string; responseCode?: number; message?: string };
        if (err.code === "EAUTH") throw integrationAuthFailed(NAME, "the SMTP server refused the server's credentials");
        if (err.responseCode && err.responseCode >= 500 && err.responseCode < 600) throw integrationError(NAME, `the SMTP server refused the message (${err.responseCode})`);
        throw mayHaveActed(integrationError(NAME, `the SMTP server could not take the message (${err.message ?? "failed"})`, true), e);
      }
      return { sent: true, to };
    },
  };
}
