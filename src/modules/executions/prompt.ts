// What the model sees: the skill's instructions as the system prompt; the input, connector context and
// attachments as the user message. Attachments are checked here, before anything is stored.
import { isRepoName } from "../../lib/github-names";
import { InvalidRequestError } from "../../lib/errors";
import { ATTACHMENT_TOKENS_MOST, type UserPart } from "../../executor/protocol";
import type { Skill } from "../skills/catalog";

export interface Attachment {
  name: string;
  mediaType: string;
  /** Text content. */
  content?: string;
  /** Base64 content (images, PDFs, or text). */
  data?: string;
}

export interface Connector {
  type: "github" | "local" | "remote";
  fields: Record<string, unknown>;
  /** Set by the run once it has read the source: what the model was given and what was cut. */
  context?: unknown;
}

/** Where a run's connector points: the source, the ref and the paths to give the model. */
export function connectorTarget(c: Connector): { source: string; ref: string | null; paths: string[] } {
  const f = c.fields;
  return { source: String(c.type === "github" ? f.repo : (f.source ?? f.url)), ref: typeof f.ref === "string" && f.ref ? f.ref : null, paths: (f.paths as string[] | undefined) ?? [] };
}

const TEXT_TYPES = /^(text\/[a-z0-9.+-]+|application\/(json|xml|yaml|x-yaml|csv|javascript|typescript|sql|x-sh))$/;
const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp)$/;
export const MAX_ATTACHMENTS = 10;

/**
 * WHATWG's forgiving base64, which the model client decodes with (atob): whitespace ignored, padding optional but
 * only on a length divisible by 4. Buffer.from(…, "base64") takes more than this, so checking with it let through
 * values the run then failed on as a model error.
 */
function isBase64(data: string): boolean {
  let s = data.replace(/[\t\n\f\r ]/g, "");
  if (s.length % 4 === 0) s = s.replace(/==?$/, "");
  return s.length % 4 !== 1 && /^[A-Za-z0-9+/]*$/.test(s);
}

/** Validates attachments and returns them with base64 text decoded; throws a 400 naming the bad one. */
export function checkAttachments(list: Attachment[] | undefined, maxBytes: number): Attachment[] {
  if (!list) return [];
  if (list.length > MAX_ATTACHMENTS) throw new InvalidRequestError(`At most ${MAX_ATTACHMENTS} attachments`, "attachments");
  return list.map((a, i) => {
    const param = `attachments.${i}`;
    if ((a.content === undefined) === (a.data === undefined)) throw new InvalidRequestError("Give an attachment either content (text) or data (base64)", param);
    const mediaType = a.mediaType.toLowerCase();
    const isText = TEXT_TYPES.test(mediaType);
    if (!isText && !IMAGE_TYPES.test(mediaType) && mediaType !== "application/pdf")
      throw new InvalidRequestError(`Unsupported attachment type '${a.mediaType}': use text, JSON, CSV, PNG, JPEG, GIF, WebP or PDF`, `${param}.mediaType`);
    let size: number;
    if (a.data !== undefined) {
      if (!isBase64(a.data)) throw new InvalidRequestError("data must be base64 (a length that leaves 1 over when divided by 4, or '=' anywhere but at the end of a padded value, is not)", `${param}.data`);
      size = Buffer.from(a.data, "base64").byteLength;
    } else {
      if (!isText) throw new InvalidRequestError(`${a.mediaType} attachments must be sent as base64 data`, `${param}.content`);
      size = Buffer.byteLength(a.content!);
    }
    if (size > maxBytes) throw new InvalidRequestError(`Attachment '${a.name}' is ${size} bytes; the limit is ${maxBytes}`, param);
    if (isText && a.data !== undefined) return { name: a.name, mediaType, content: Buffer.from(a.data, "base64").toString("utf8") };
    return { ...a, mediaType };
  });
}

export function checkConnector(c: Connector | undefined): Connector | undefined {
  if (!c) return undefined;
  if (c.type === "github") {
    const repo = c.fields.repo;
    if (!isRepoName(repo))
      throw new InvalidRequestError("A github connector needs fields.repo as 'owner/repo'", "connector.fields.repo");
  } else if (!(c.type === "remote" && c.fields.source === undefined && c.fields.url === undefined)) {
    // A remote source is its URL: `url` reads as well as `source`. Neither: the workspace's one remote source.
    const src = c.type === "remote" && c.fields.source === undefined ? c.fields.url : c.fields.source;
    if (typeof src !== "string" || !src || src.length > 2048)
      throw new InvalidRequestError(`A ${c.type} connector needs fields.source (as list-sources names it)`, "connector.fields.source");
  }
  const { ref, paths } = c.fields;
  if (ref !== undefined && (typeof ref !== "string" || ref.length > 255)) throw new InvalidRequestError("fields.ref must be a branch, tag or commit", "connector.fields.ref");
  if (paths !== undefined && (!Array.isArray(paths) || paths.length > 50 || paths.some((p) => typeof p !== "string" || p.length > 4096)))
    throw new InvalidRequestError("fields.paths must be a list of at most 50 paths", "connector.fields.paths");
  return { type: c.type, fields: c.fields };
}

const FILE_CONVENTION = `

---
Output rules for this run: answer in Markdown. If you produce a file the user should be able to download separately
(code, data, a page), put it in a fenced code block whose info string names it, e.g. \`\`\`html file=index.html — each
such block is saved as its own artifact.`;

/** `sourceText`: the source the run read (tree, README, paths), given instead of the connector's bare fields. */
export function buildPrompt(skill: Skill, input: string, attachments: Attachment[], connector: Connector | undefined, sourceText?: string): { system: string; user: UserPart[] } {
  const user: UserPart[] = [];
  let text = input;
  if (sourceText) text += `\n\n${sourceText}`;
  else if (connector) text += `\n\n<connector type="${connector.type}">${JSON.stringify(connector.fields)}</connector>`;
  for (const a of attachments) {
    if (a.content !== undefined) text += `\n\n<attachment name="${a.name.replace(/"/g, "'")}" media_type="${a.mediaType}">\n${a.content}\n</attachment>`;
  }
  user.push({ type: "text", text });
  for (const a of attachments) {
    if (a.content !== undefined) continue;
    if (a.mediaType === "application/pdf") user.push({ type: "file", data: a.data!, mediaType: a.mediaType, filename: a.name });
    else user.push({ type: "image", image: a.data!, mediaType: a.mediaType });
  }
  return { system: `# Skill: ${skill.name}\n\n${skill.instructions}${FILE_CONVENTION}`, user };
}

/** Characters of prompt text per token, for the guess below: English prose runs ~4, code ~3. */
export const CHARS_PER_TOKEN = 3;
/** UTF-8 bytes per token of text in other scripts: Chinese or Japanese runs ~1–1.5 tokens a character (3 bytes). */
const OTHER_BYTES_PER_TOKEN = 2;

/** Text's tokens as the guess counts them: ASCII at CHARS_PER_TOKEN, the rest by its UTF-8 bytes. */
function textTokens(text: string): number {
  let ascii = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x80) ascii++;
  return ascii / CHARS_PER_TOKEN + (Buffer.byteLength(text) - ascii) / OTHER_BYTES_PER_TOKEN;
}

/**
 * A run's prompt in tokens, guessed before it is built, for its credit hold (runner.begin): its text (textTokens), each
 * image or document at the most it may be charged (ATTACHMENT_TOKENS_MOST). It errs high: a hold too large only keeps
 * the workspace's next paid runs queued until this one ends, and one too small lets runs started together spend past
 * the balance (100,000 Chinese characters held as 33,000 tokens, a 100-page PDF as 3,000, were charged 150,000 each:
 * four or five such runs took a balance of 100 to -104 or -125).
 */
export function promptTokensGuess(skill: Skill, input: string, attachments: Attachment[]): number {
  let tokens = textTokens(skill.name) + textTokens(skill.instructions) + FILE_CONVENTION.length / CHARS_PER_TOKEN + textTokens(input);
  for (const a of attachments)
    tokens += a.content !== undefined ? textTokens(a.content) : a.mediaType === "application/pdf" ? ATTACHMENT_TOKENS_MOST.document : ATTACHMENT_TOKENS_MOST.image;
  return Math.ceil(tokens);
}
