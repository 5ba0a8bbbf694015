// Names people give things (workspaces, API keys, themselves) are shown in pages, mails and the CLI's tables: one
// line of text. A control character broke a table's row (or, in a mail subject, forged a header), a line or
// paragraph separator breaks the line too, a text direction mark makes a name read as another ("key\u202Etxt.exe"),
// and zero-width characters make two names look alike or one look blank.
import { InvalidRequestError } from "./errors";

// Format characters (Cf) but the zero-width joiner and non-joiner, which emoji (👩‍💻) and some scripts need; and half
// of a surrogate pair alone (Cs), which is no character: stored as U+FFFD, it made the answer and the row disagree.
// Also kept: the soft hyphen ("Jahres\u00ADbericht").
// And the letters and symbols that show as nothing (Hangul fillers, the braille blank, the musical null notehead): a
// name of them looked blank.
const UNSHOWABLE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\u115F\u1160\u3164\uFFA0\u2800\u{1D159}]|(?![\u200C\u200D\u00AD])\p{Cf}/u;
/** A subdivision flag (🏴󠁧󠁢󠁥󠁮󠁧󠁿): tag characters in the one place they show. Anywhere else they are hidden text. */
const FLAG = /\u{1F3F4}[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{2,6}\u{E007F}/gu;
/** Something a reader sees: a letter, digit, symbol or punctuation (not only spaces and combining marks). */
const VISIBLE = /[\p{L}\p{N}\p{S}\p{P}]/u;

/** Whether `name` is one line with nothing that hides or reorders what is in it, and something to see. */
export const isPlainLine = (name: string): boolean => !UNSHOWABLE.test(name.replace(FLAG, "\u{1F3F4}")) && VISIBLE.test(name);

/** `raw` trimmed, or a 400 naming `param` when it is blank or not plain text. */
export function plainName(raw: string, param = "name"): string {
  const name = raw.trim();
  if (!name) throw new InvalidRequestError(`${param} must not be blank`, param);
  if (!isPlainLine(name)) throw new InvalidRequestError(`${param} must be one line of visible text, without control, invisible or text-direction characters`, param);
  return name;
}
