// Names people give things (workspaces, API keys, themselves) are shown in pages, mails and the CLI's tables: one
// line of text. A control character broke a table's row (or, in a mail subject, forged a header) and a text
// direction override makes a name read as another ("key\u202Etxt.exe").
import { InvalidRequestError } from "./errors";

const UNSHOWABLE = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

/** Whether `name` is one line with nothing that hides or reorders what follows it. */
export const isPlainLine = (name: string): boolean => !UNSHOWABLE.test(name);

/** `raw` trimmed, or a 400 naming `param` when it is blank or not plain text. */
export function plainName(raw: string, param = "name"): string {
  const name = raw.trim();
  if (!name) throw new InvalidRequestError(`${param} must not be blank`, param);
  if (!isPlainLine(name)) throw new InvalidRequestError(`${param} must be one line of text, without control or text-direction characters`, param);
  return name;
}
