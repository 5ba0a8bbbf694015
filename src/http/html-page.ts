// Our HTML pages' headers: a policy that allows each page's own inline blocks by hash and nothing else, never framed,
// no Referer. Every page this server answers goes through htmlPage().

// Policies by the page's inline script and style blocks, not by its whole HTML: a page that shows path
// params or error text is a new string every time but the same blocks. Capped all the same, so a page
// whose blocks vary cannot grow it either (past the cap, policies are computed and not kept).
const pagePolicies = new Map<string, string>();
const PAGE_POLICIES_MAX = 256;
const INLINE_BLOCK = { script: /<script>([\s\S]*?)<\/script>/g, style: /<style>([\s\S]*?)<\/style>/g };

/** How many page policies are cached (bounded; for the test that proves it). */
export const cachedPagePolicies = (): number => pagePolicies.size;

/**
 * Answers one of our HTML pages: never framed (clickjacking), scripts and styles only the page's own inline
 * blocks (allowed by hash), requests and form posts only to this origin, and no Referer (/activate?code=
 * carries a code).
 */
export function htmlPage(
  set: { headers: Record<string, string | number> },
  html: string,
  opts: { referrer?: "same-origin"; frames?: "self" } = {},
): string {
  const scripts = [...html.matchAll(INLINE_BLOCK.script)].map((m) => m[1]!);
  const styles = [...html.matchAll(INLINE_BLOCK.style)].map((m) => m[1]!);
  const key = `${scripts.join("\0")}\u0001${styles.join("\0")}\u0001${opts.frames ?? ""}`;
  let csp = pagePolicies.get(key);
  if (csp === undefined) {
    const hashes = (blocks: string[]) => blocks.map((b) => `'sha256-${new Bun.CryptoHasher("sha256").update(b).digest("base64")}'`).join(" ");
    csp = `default-src 'none'; script-src ${hashes(scripts)}; style-src ${hashes(styles)}; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
    // Only a page that asks for it may frame anything, and only this origin (the artifact preview, whose
    // frame is sandbox="" and whose answer carries its own CSP sandbox).
    if (opts.frames === "self") csp += "; frame-src 'self'";
    if (pagePolicies.size < PAGE_POLICIES_MAX) pagePolicies.set(key, csp);
  }
  set.headers["content-type"] = "text/html; charset=utf-8";
  set.headers["content-security-policy"] = csp;
  set.headers["x-frame-options"] = "DENY";
  set.headers["x-content-type-options"] = "nosniff";
  // A page whose form posts back here needs same-origin: under no-referrer a browser sends `Origin: null`
  // with the post, which the cross-site check must refuse.
  set.headers["referrer-policy"] = opts.referrer ?? "no-referrer";
  return html;
}
