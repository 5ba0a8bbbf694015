// Outgoing mail: SMTP through nodemailer when CLANKER_SMTP_URL is set; otherwise every message is logged and
// written to data/outbox/ so a lone self-hoster can read their codes.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SigninConfig } from "../../config";
import type { Log } from "../../lib/log";

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

export function createMailer(config: SigninConfig, dataDir: string, log: Log): Mailer {
  if (config.smtpUrl) {
    const smtpUrl = config.smtpUrl;
    // Loaded with the first mail, not at start-up (`clanker mcp` and most requests never send one).
    let transport: Promise<import("nodemailer").Transporter> | undefined;
    return {
      async send(mail) {
        transport ??= import("nodemailer").then((m) => m.default.createTransport(smtpUrl));
        await (await transport).sendMail({ from: config.mailFrom, ...mail });
      },
    };
  }
  const outbox = join(dataDir, "outbox");
  let seq = 0;
  return {
    async send(mail) {
      mkdirSync(outbox, { recursive: true, mode: 0o700 });
      const name = `${Date.now()}-${++seq}-${mail.to.replace(/[^A-Za-z0-9@._-]/g, "_")}.eml`;
      const eml = `From: ${config.mailFrom}\nTo: ${mail.to}\nSubject: ${mail.subject}\nDate: ${new Date().toUTCString()}\nContent-Type: text/plain; charset=utf-8\n\n${mail.text}\n`;
      writeFileSync(join(outbox, name), eml, { mode: 0o600 });
      // Never the subject or body: they carry sign-in codes and invitation tokens, and logs travel further than the outbox.
      log(`mail to ${mail.to} written to ${join(outbox, name)} (no CLANKER_SMTP_URL)`);
    },
  };
}
