// The small page an OAuth callback (GitHub, Slack) shows the person in the browser: it worked, or why not and
// what to do next. Serve it with htmlPage() so it carries the page security headers.
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:460px;margin:64px auto;padding:0 16px;color:#1b1b1f}
h1{font-size:22px}.ok{color:#1d5c33}.err{color:#8a1c1c}code{background:#f1f1f4;padding:2px 4px;border-radius:4px}`;

export function oauthResultPage(r: { ok: boolean; service: string; account?: string | null; problem?: string }): string {
  const title = r.ok ? `${r.service} connected` : `${r.service} was not connected`;
  const body = r.ok
    ? `<p class="ok">Clanker can now use ${escapeHtml(r.service)}${r.account ? ` as <code>${escapeHtml(r.account)}</code>` : ""}.</p><p>You can close this tab and go back to your agent or terminal.</p>`
    : `<p class="err">${escapeHtml(r.problem ?? "Something went wrong.")}</p><p>Start connecting again from your agent or with the API; a link is valid for 10 minutes and works once.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} — Clanker</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}
