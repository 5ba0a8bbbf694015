// Mail for the sign-in tests: a local SMTP sink on 127.0.0.1 (the `smtp-server` package, no auth, no TLS)
// that the server sends to when CLANKER_SMTP_URL points at it, and a reader for the outbox, where the server writes
// each message when no SMTP URL is set: <dataDir>/outbox/*.eml, or under PostgreSQL the `files` rows outbox/*.eml
// of the server's database (read with psql, so the readers stay synchronous in both modes).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { databaseUrlOf } from "./server";

export interface SinkMessage {
  /** 1, 2, 3… in arrival order, across all recipients. */
  seq: number;
  /** Envelope recipients, lower-cased. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  raw: string;
}

export interface MailSink {
  port: number;
  /** smtp://127.0.0.1:<port>, for CLANKER_SMTP_URL. */
  url: string;
  messages: SinkMessage[];
  /** Every message to this address, oldest first. */
  to(address: string): SinkMessage[];
  /** The newest message to `to` that satisfies `predicate`, waiting up to timeoutMs for one to arrive. */
  waitFor(to: string, predicate?: (m: SinkMessage) => boolean, timeoutMs?: number): Promise<SinkMessage>;
  /** The last 6-digit code in the newest message to this address (waits up to timeoutMs for one). */
  codeFor(to: string, timeoutMs?: number): Promise<string>;
  /** Addresses (lower-cased) refused for now at RCPT TO with a 451, as a mail server short of something answers. */
  deferred: Set<string>;
  close(): Promise<void>;
}

export interface ParsedMail {
  headers: Map<string, string>;
  to: string;
  subject: string;
  text: string;
}

const CODE_RE = /(?<![\w-])(\d{6})(?![\w-])/g;

/** The last standalone 6-digit number in a message: the subject first (it names the code), else the body. */
export function extractCode(m: { subject: string; text: string }): string | null {
  for (const part of [m.subject, m.text]) {
    const all = [...part.matchAll(CODE_RE)];
    if (all.length) return all[all.length - 1]![1]!;
  }
  return null;
}

/** A TextDecoder for a MIME charset, falling back to UTF-8 for one it does not know. */
function decoder(charset: string): TextDecoder {
  try {
    return new TextDecoder(charset as ConstructorParameters<typeof TextDecoder>[0]);
  } catch {
    return new TextDecoder("utf-8");
  }
}

function decodeQuotedPrintable(s: string, charset: string): string {
  const bytes: number[] = [];
  const src = s.replace(/=\r?\n/g, "");
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      bytes.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, "utf8")) bytes.push(b);
    }
  }
  return decoder(charset || "utf-8").decode(new Uint8Array(bytes));
}

/** RFC 2047 encoded words (=?utf-8?Q?...?= / =?utf-8?B?...?=) in a header value. */
function decodeWords(v: string): string {
  return v
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, charset: string, enc: string, data: string) =>
      enc.toUpperCase() === "B"
        ? decoder(charset).decode(Buffer.from(data, "base64"))
        : decodeQuotedPrintable(data.replace(/_/g, " "), charset),
    );
}

/** A small parser for the single-part text/plain messages the server sends (SMTP or .eml). */
export function parseMail(raw: string): ParsedMail {
  const normalized = raw.replace(/\r\n/g, "\n");
  const split = normalized.indexOf("\n\n");
  const head = split === -1 ? normalized : normalized.slice(0, split);
  const body = split === -1 ? "" : normalized.slice(split + 2);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const charset = /charset="?([^";\s]+)/i.exec(headers.get("content-type") ?? "")?.[1] ?? "utf-8";
  const cte = (headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  let text = body;
  if (cte === "quoted-printable") text = decodeQuotedPrintable(body, charset);
  else if (cte === "base64") text = decoder(charset).decode(Buffer.from(body.replace(/\s+/g, ""), "base64"));
  return { headers, to: decodeWords(headers.get("to") ?? ""), subject: decodeWords(headers.get("subject") ?? ""), text: text.replace(/\n+$/, "") };
}

export async function startMailSink(): Promise<MailSink> {
  const messages: SinkMessage[] = [];
  const deferred = new Set<string>();
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    // As a mail server refuses a mailbox it does not have: 550, a refusal that retrying will not change.
    onRcptTo(address, _session, callback) {
      if (deferred.has(address.address.toLowerCase())) return callback(Object.assign(new Error("4.3.0 Try again later"), { responseCode: 451 }));
      if (address.address.toLowerCase().startsWith("refused-")) return callback(Object.assign(new Error("No such user here"), { responseCode: 550 }));
      // As a mail server refuses to relay for a sender it does not know: a 5.7.1, the server's setup, not the address.
      if (address.address.toLowerCase().startsWith("relay-")) return callback(Object.assign(new Error("5.7.1 Relay access denied"), { responseCode: 550 }));
      callback();
    },
    // Collect the whole message before answering 250, so the server's send (and its HTTP answer) completes
    // only after the message is here.
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", (e) => callback(e));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const p = parseMail(raw);
        messages.push({
          seq: messages.length + 1,
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          subject: p.subject,
          text: p.text,
          raw,
        });
        for (const w of waiters) w();
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.server.address();
      resolve(typeof addr === "object" && addr ? addr.port : 0);
    });
  });

  const sink: MailSink = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    to: (address) => messages.filter((m) => m.to.includes(address.toLowerCase())),
    waitFor(to, predicate = () => true, timeoutMs = 5000) {
      const find = () => sink.to(to).filter(predicate).pop();
      const now = find();
      if (now) return Promise.resolve(now);
      return new Promise<SinkMessage>((resolve, reject) => {
        const check = () => {
          const m = find();
          if (!m) return;
          cleanup();
          resolve(m);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no mail to ${to} matching within ${timeoutMs} ms (sink has ${messages.length}: ${messages.map((m) => `${m.to.join(",")} "${m.subject}"`).join("; ")})`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    async codeFor(to, timeoutMs = 5000) {
      const m = await sink.waitFor(to, undefined, timeoutMs);
      const code = extractCode(m);
      if (!code) throw new Error(`the newest mail to ${to} carries no 6-digit code: ${m.subject}\n${m.text}`);
      return code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    deferred,
  };
  return sink;
}

export interface OutboxMessage extends ParsedMail {
  /** The .eml file, or under PostgreSQL its path in the database (outbox/<name>.eml): what the server logs. */
  file: string;
}

/** Whose outbox: a data dir (its database found from the test helpers), or a server (its env's DATABASE_URL). */
export type OutboxOwner = string | { dataDir: string; env?: Record<string, string> };

function databaseOf(owner: OutboxOwner): string | null {
  if (typeof owner !== "string" && owner.env?.DATABASE_URL && /^postgres(ql)?:\/\//.test(owner.env.DATABASE_URL)) return owner.env.DATABASE_URL;
  return databaseUrlOf(typeof owner === "string" ? owner : owner.dataDir);
}

const dirOf = (owner: OutboxOwner) => join(typeof owner === "string" ? owner : owner.dataDir, "outbox");

/** The outbox rows of a PostgreSQL database: [path, text] pairs, through psql (synchronous, like the file reads). */
function databaseOutbox(url: string): { name: string; file: string; raw: string }[] {
  const query = `SELECT coalesce(json_agg(json_build_object('path', path, 'text', convert_from(content, 'UTF8'))), '[]') FROM files WHERE path LIKE 'outbox/%'`;
  const p = Bun.spawnSync(["psql", url, "-AtXq", "-v", "ON_ERROR_STOP=1", "-c", query], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`psql could not read the outbox: ${p.stderr.toString().trim()}`);
  const rows = JSON.parse(p.stdout.toString().trim() || "[]") as { path: string; text: string }[];
  return rows.map((r) => ({ name: r.path.slice("outbox/".length), file: r.path, raw: r.text }));
}

/** Every message in the outbox addressed to `to`, oldest first (by the time and sequence in the name). */
export function outboxMessages(owner: OutboxOwner, to: string): OutboxMessage[] {
  const url = databaseOf(owner);
  const dir = dirOf(owner);
  let found: { name: string; file: string; raw: () => string }[];
  if (url) found = databaseOutbox(url).map((m) => ({ ...m, raw: () => m.raw }));
  else if (!existsSync(dir)) return [];
  else found = readdirSync(dir).map((f) => ({ name: f, file: join(dir, f), raw: () => readFileSync(join(dir, f), "utf8") }));
  const key = (m: { name: string; file: string }): [number, number] => {
    const k = /^(\d+)-(\d+)-/.exec(m.name);
    return k ? [Number(k[1]), Number(k[2])] : [url ? 0 : statSync(m.file).mtimeMs, 0];
  };
  return found
    .filter((m) => m.name.endsWith(".eml"))
    .map((m) => ({ m, k: key(m) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1])
    .map(({ m }) => ({ file: m.file, ...parseMail(m.raw()) }))
    .filter((m) => m.to.toLowerCase().includes(to.toLowerCase()));
}

/** The newest outbox message for this address, or null. */
export function outboxLatest(owner: OutboxOwner, to: string): OutboxMessage | null {
  return outboxMessages(owner, to).pop() ?? null;
}

/** The last 6-digit code in the newest outbox message for this address (waits up to timeoutMs). */
export async function outboxCode(owner: OutboxOwner, to: string, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = outboxLatest(owner, to);
    const code = m && extractCode(m);
    if (code) return code;
    if (Date.now() >= deadline) throw new Error(`no code mailed to ${to} in ${databaseOf(owner) ? "the database's outbox" : dirOf(owner)} within ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}
