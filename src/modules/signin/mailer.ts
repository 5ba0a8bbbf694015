// Outgoing mail: SMTP through nodemailer when CLANKER_SMTP_URL is set; otherwise every message is logged and
// written to the outbox (data/outbox/, or the database's files under PostgreSQL) so a self-hoster can read their codes.
import type { SigninConfig } from "../../config";
import type { Log } from "../../lib/log";
import { describeError } from "../../lib/errors";
import type { Store } from "../../store/db";
import { OUTBOX_DIR } from "../../store/data-dir";
import { createFileStore, dataDirFiles, type FileStore } from "../../store/files";

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/**
 * How long mail stays in the outbox: the longest anything in it stays good is an invitation's 7 days (a sign-in
 * code's is 10 minutes). Kept for good, the outbox grew by a file per code asked for, by anyone, with no login.
 */
export const OUTBOX_KEEP_MS = 8 * 24 * 3600 * 1000;

/** An outbox file's name: `<ms>-<seq>[-<pid>]-<address>.eml` (see send). */
const OUTBOX_NAME = /^(\d{13,})-\d+(?:-\d+)?-[A-Za-z0-9@._-]*\.eml$/;

/** Deletes outbox mail written before `now - OUTBOX_KEEP_MS` (its name starts with the time it was written); returns how many. */
export async function pruneOutbox(files: FileStore, now = Date.now()): Promise<number> {
  let gone = 0;
  for (const path of await files.list(`${OUTBOX_DIR}/`)) {
    // Only a name as send() writes them: an outbox that is a link to another folder keeps that folder's files.
    const written = OUTBOX_NAME.exec(path.slice(OUTBOX_DIR.length + 1));
    if (!written || Number(written[1]) >= now - OUTBOX_KEEP_MS) continue;
    await files.delete(path);
    gone++;
  }
  return gone;
}

/**
 * `store`: where the outbox goes under PostgreSQL (every replica's mail in one place); without it, the data dir.
 * A failure is logged with its cause and thrown as a MailError that says only what happened: the caller's answer
 * goes to a client, and the cause may name a path or the mail server's address.
 */
export function createMailer(config: SigninConfig, dataDir: string, log: Log, store?: Store): Mailer {
  const mailer = rawMailer(config, dataDir, log, store);
  const what = config.smtpUrl ? "the mail server refused it or could not be reached" : "it could not be written to the outbox";
  return {
    async send(mail) {
      try {
        await mailer.send(mail);
      } catch (e) {
        log.error(`mail to ${mail.to} could not be sent: ${describeError(e)}`);
        // The message says only what happened; what kind of failure it was travels on (refused credentials, a refusal
        // that retrying will not change), so the caller can answer it as such.
        const { code, responseCode, command, response, stillSending } = e as { code?: unknown; responseCode?: unknown; command?: unknown; response?: unknown; stillSending?: Promise<void> };
        const said = stillSending ? `the mail server did not take it within ${SEND_DEADLINE_MS / 1000} s, and it may still arrive: wait a few minutes before asking again` : `${what}; the server's log says why`;
        throw Object.assign(new MailError(said), {
          stillSending,
          code: typeof code === "string" ? code : undefined,
          responseCode: typeof responseCode === "number" ? responseCode : undefined,
          command: typeof command === "string" ? command : undefined,
          response: typeof response === "string" ? response : undefined,
        });
      }
    },
  };
}

export class MailError extends Error {
  /** nodemailer's: EAUTH (the credentials refused), ETIMEDOUT, ECONNECTION… */
  code?: string;
  /** The SMTP server's reply code, when it answered one (550: the recipient refused). */
  responseCode?: number;
  /** The SMTP command it answered ("RCPT TO": the recipient's address). */
  command?: string;
  /** The reply's text ("550 5.1.1 <x@y>: User unknown"): logged, never shown to a client. */
  response?: string;
  /** Set when the send overran its deadline and goes on: settles when it ends (rejects if it fails after all). */
  stillSending?: Promise<void>;

  /**
   * The mail server refused this recipient for good (a 5xx to RCPT TO: no such mailbox, disabled, rejected): the
   * address is the caller's to fix. Not a refusal to relay or to take mail from this server without signing in
   * ("Relay access denied", "Authentication required"): that is this server's mail setup, whoever the recipient is.
   */
  get recipientRefused(): boolean {
    if (this.command !== "RCPT TO" || this.responseCode === undefined || this.responseCode < 500 || this.responseCode >= 600) return false;
    return !/relay|authenticat/i.test(this.response ?? "");
  }
}

/** How long a mail server may stay silent mid-conversation before the mail fails. */
const SMTP_TIMEOUT_MS = 15_000;
/** How long a whole send may take, however promptly each step is answered. */
const SEND_DEADLINE_MS = 30_000;

/** The outbox file's name keeps at most this much of the address: a long one must not pass the file system's 255 bytes. */
const NAME_ADDRESS_CHARS = 64;

function rawMailer(config: SigninConfig, dataDir: string, log: Log, store?: Store): Mailer {
  if (config.smtpUrl) {
    const smtpUrl = config.smtpUrl;
    // Loaded with the first mail, not at start-up (`clanker mcp` and most requests never send one).
    let transport: Promise<import("nodemailer").Transporter> | undefined;
    return {
      async send(mail) {
        // Bounded as an integration's HTTP call is (Slack: 15 s): nodemailer's defaults let a mail server that stops
        // answering hold a sign-in or a workflow step for 10 minutes.
        transport ??= import("nodemailer").then((m) => m.default.createTransport({ url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: SMTP_TIMEOUT_MS }));
        // The address as an address: nodemailer would read a display name, a group or a list out of a string.
        const sending = (await transport).sendMail({ from: config.mailFrom, subject: mail.subject, text: mail.text, to: { name: "", address: mail.to } });
        // Its timeouts bound each step; a server answering every step just in time held a sign-in for a minute.
        let timer: ReturnType<typeof setTimeout> | undefined;
        // Past it the send goes on (nodemailer cannot abort one): the error carries it, so a caller can act when it ends.
        const still = sending.then(() => undefined);
        still.catch(() => {});
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error(`the mail server did not take the message within ${SEND_DEADLINE_MS / 1000} s`), { code: "ETIMEDOUT", stillSending: still })), SEND_DEADLINE_MS);
        });
        try {
          await Promise.race([sending, late]);
        } finally {
          clearTimeout(timer);
        }
      },
    };
  }
  const files = store ? createFileStore(store, dataDir) : dataDirFiles(dataDir);
  // Replicas share the outbox: the pid keeps two of them writing in the same millisecond apart.
  const tag = files.shared ? `-${process.pid}` : "";
  let seq = 0;
  return {
    async send(mail) {
      const path = `${OUTBOX_DIR}/${Date.now()}-${++seq}${tag}-${mail.to.replace(/[^A-Za-z0-9@._-]/g, "_").slice(0, NAME_ADDRESS_CHARS)}.eml`;
      // A header value is one line, whatever a name in it holds (nodemailer folds them the same way over SMTP).
      const header = (v: string) => v.replace(/[\r\n]+/g, " ");
      const eml = `From: ${config.mailFrom}\nTo: ${header(mail.to)}\nSubject: ${header(mail.subject)}\nDate: ${new Date().toUTCString()}\nContent-Type: text/plain; charset=utf-8\n\n${mail.text}\n`;
      await files.put(path, eml);
      // Never the subject or body: they carry sign-in codes and invitation tokens, and logs travel further than the outbox.
      log(`mail to ${mail.to} written to ${files.where(path)} (no CLANKER_SMTP_URL)`);
    },
  };
}
