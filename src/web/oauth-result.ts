// The small pages a browser gets outside the web app: what an OAuth callback (GitHub, Slack) shows (what is about to be
// connected, confirm it; it worked, or why not and what to do next), and an address that is no page. Serve them with
// htmlPage() so they carry the page security headers (the confirmation's form needs its form-action 'self').
/** Text for HTML, in an element or a quoted attribute. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:460px;margin:64px auto;padding:0 16px;color:#1b1b1f}
h1{font-size:22px}.ok{color:#1d5c33}.err{color:#8a1c1c}code{background:#f1f1f4;padding:2px 4px;border-radius:4px}
button{font:inherit;padding:8px 20px;border:0;border-radius:6px;background:#1b1b1f;color:#fff;cursor:pointer}`;

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} — Clanker</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;

/**
 * Shown by the callback instead of connecting at once: the provider may skip its own consent screen, so this is
 * where the person sees which workspace gets the connection, and who asked. Confirm posts state and code back.
 */
export function oauthConfirmPage(r: { service: string; workspaceName: string; startedBy: string; viaApiKey: boolean; action: string; state: string; code: string }): string {
  const service = escapeHtml(r.service);
  return page(
    `Connect ${r.service}?`,
    `<p>Connect your ${service} account to the Clanker workspace <code>${escapeHtml(r.workspaceName)}</code>?</p>
<p>${escapeHtml(r.startedBy)} started this${r.viaApiKey ? " (with an API key, for example from an agent)" : ""}. That workspace's members will be able to use ${service} as you.</p>
<form method="post" action="${escapeHtml(r.action)}" enctype="multipart/form-data">
<input type="hidden" name="state" value="${escapeHtml(r.state)}"><input type="hidden" name="code" value="${escapeHtml(r.code)}">
<button type="submit">Confirm</button></form>
<p>If you did not start this, close this tab: nothing is connected until you confirm.</p>`,
  );
}

export function oauthResultPage(r: { ok: boolean; service: string; account?: string | null; problem?: string }): string {
  const title = r.ok ? `${r.service} connected` : `${r.service} was not connected`;
  const body = r.ok
    ? `<p class="ok">Clanker can now use ${escapeHtml(r.service)}${r.account ? ` as <code>${escapeHtml(r.account)}</code>` : ""}.</p><p>You can close this tab and go back to your agent or terminal.</p>`
    : `<p class="err">${escapeHtml(r.problem ?? "Something went wrong.")}</p><p>Start connecting again from your agent or with the API; a link is valid for 10 minutes and works once.</p>`;
  return page(title, body);
}

/** A browser's address that is no page here: where to go instead (an API client asking the same gets the JSON 404). */
export function notFoundPage(path: string): string {
  return page("Nothing here", `<p class="err">No page at <code>${escapeHtml(path)}</code>.</p><p>Open <a href="/">the web app</a>, or the API reference at <a href="/docs">/docs</a>.</p>`);
}
