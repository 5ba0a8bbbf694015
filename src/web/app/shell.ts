// The web app's frame: one HTML document per page, with the shared style, the navigation and the small
// client library (api(), live events, sign-out) inlined, so the binary carries every asset and htmlPage()
// can allow each block by its hash. Page scripts are plain JS strings: no backticks, no template holes.

export const NAV: { href: string; label: string }[] = [
  { href: "/library", label: "Library" },
  { href: "/executions", label: "Executions" },
  { href: "/artifacts", label: "Artifacts" },
  { href: "/workflows", label: "Workflows" },
  { href: "/memory", label: "Memory" },
  { href: "/settings", label: "Settings" },
];

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1f;--muted:#52525b;--line:#d4d4d8;--card:#f4f4f5;--link:#0b57d0;--btn:#1b1b1f;--btnfg:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#141417;--fg:#ececf0;--muted:#a1a1aa;--line:#3f3f46;--card:#1f1f23;--link:#8ab4f8;--btn:#ececf0;--btnfg:#141417}}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
a{color:var(--link)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;padding:10px 16px;border-bottom:1px solid var(--line)}
header .brand{font-weight:700;text-decoration:none;color:var(--fg)}
nav ul{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;margin:0;padding:0}
nav a[aria-current=page]{font-weight:700;color:var(--fg)}
header .who{margin-left:auto;display:flex;gap:8px;align-items:center;color:var(--muted);font-size:14px}
main{max-width:960px;margin:0 auto;padding:16px}
h1{font-size:24px;margin:8px 0 16px}
h1,h2,li,a,td{overflow-wrap:anywhere}
h2{font-size:18px}
form.stack{display:flex;flex-direction:column;gap:10px;max-width:420px}
label{display:flex;flex-direction:column;gap:4px}
input,select,textarea{font:inherit;padding:8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
button{font:inherit;padding:8px 14px;border:1px solid var(--btn);border-radius:6px;background:var(--btn);color:var(--btnfg);cursor:pointer}
button.plain{background:transparent;color:var(--fg);border-color:var(--line)}
:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.msg{padding:10px;border-radius:6px;background:var(--card)}
.err{background:#fde8e8;color:#7f1d1d}.ok{background:#e6f6ec;color:#14532d}
.muted{color:var(--muted)}
.toolbar{display:flex;flex-wrap:wrap;gap:10px;align-items:end;margin-bottom:12px}
ul.rows{list-style:none;margin:0;padding:0;border-top:1px solid var(--line)}
ul.rows li{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:baseline;padding:10px 4px;border-bottom:1px solid var(--line)}
ul.rows .grow{flex:1 1 220px;min-width:0}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:13px;font-weight:600;background:#e4e4e7;color:#27272a}
.badge.completed{background:#dcfce7;color:#14532d}.badge.failed{background:#fee2e2;color:#7f1d1d}
.badge.running,.badge.queued{background:#dbeafe;color:#1e3a8a}.badge.cancelled{background:#fef3c7;color:#78350f}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0 0 16px}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere;white-space:pre-wrap}
pre.block{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--card);padding:12px;border-radius:6px;font:14px/1.5 ui-monospace,monospace}
form.stack.wide{max-width:none}
textarea{font:14px/1.5 ui-monospace,monospace}
iframe.preview{width:100%;height:420px;border:1px solid var(--line);border-radius:6px;background:#fff}
img.preview{max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px}
[hidden]{display:none!important}
/* Library, skill page, rendered Markdown (artifacts, memory), numbered code lines */
ul.rows .desc{display:block;font-size:14px}
ul.rows li .msg{flex-basis:100%}
label.check{flex-direction:row;align-items:center;gap:8px}
.field{display:flex;flex-direction:column;gap:4px}
.hint{font-size:14px}
.drop{border:2px dashed var(--line);border-radius:8px;padding:12px}
.drop.over{border-color:var(--link);background:var(--card)}
ul.files{list-style:none;margin:0;padding:0}ul.files li{display:flex;gap:8px;align-items:center;padding:4px 0}
.md{overflow-wrap:anywhere}.md>:first-child{margin-top:0}
.md pre{background:var(--card);padding:12px;border-radius:6px;overflow-x:auto}
.md code{font:14px/1.5 ui-monospace,monospace}.md :not(pre)>code{background:var(--card);padding:1px 4px;border-radius:4px}
.md table{border-collapse:collapse;display:block;overflow-x:auto}.md th,.md td{border:1px solid var(--line);padding:4px 8px}
.md blockquote{margin:0;padding-left:12px;border-left:4px solid var(--line);color:var(--muted)}
.md img{max-width:100%}
#output.md{min-height:48px;border:1px solid var(--line);border-radius:6px;padding:12px}
pre.lines{counter-reset:ln}
pre.lines .ln::before{counter-increment:ln;content:counter(ln);display:inline-block;width:3.5em;margin-right:12px;padding-right:8px;text-align:right;color:var(--muted);border-right:1px solid var(--line);user-select:none}
.split{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media (max-width:760px){.split{grid-template-columns:1fr}}
/* Settings pages and the workspace switcher (settings*.ts) */
/* Only the address may break anywhere (a long one has no other place to); the switcher's words stay whole, the
   switcher wraps as a whole and its select shrinks instead. */
header .who{flex-wrap:wrap;min-width:0}header .who #who-email{overflow-wrap:anywhere;min-width:0}
header .who .ws,header .who .ws label{display:flex;flex-direction:row;align-items:center;gap:6px;min-width:0}
header .who .ws label,header .who button{white-space:nowrap}
header .who select{padding:4px 6px;font-size:14px;flex:0 1 auto;width:auto;max-width:14em;min-width:0}
nav.subnav ul{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;margin:0 0 8px;padding:8px 0;border-bottom:1px solid var(--line)}
nav.subnav a[aria-current=page]{font-weight:700;color:var(--fg)}
.toolbar label.grow{flex:1 1 260px}
input[readonly]{font:14px/1.5 ui-monospace,monospace}
select{max-width:100%}.toolbar label{max-width:100%;min-width:0}
input.code{letter-spacing:3px;text-transform:uppercase;font-family:ui-monospace,monospace}
/* /workflows, /workflows/runs/:id (and the /executions skill filter) */
.badge.suspended{background:#fef3c7;color:#78350f}.badge.pending,.badge.skipped{background:#e4e4e7;color:#3f3f46}
section.def{border:1px solid var(--line);border-radius:8px;padding:4px 14px 12px;margin-bottom:12px}
section.def h3{margin:8px 0 4px}section.def p{margin:4px 0}
summary{cursor:pointer;padding:4px 0}
.field{display:flex;flex-direction:column;gap:4px}.field label{display:block}section.def form button{align-self:flex-start}.field.check{flex-direction:row;flex-wrap:wrap;align-items:center;gap:8px}
.field .req{color:var(--muted);font-weight:400}.hint{color:var(--muted);font-size:14px}.field.check .hint{flex-basis:100%}
.field-err{color:#b91c1c;font-size:14px;font-weight:600}
@media (prefers-color-scheme:dark){.field-err{color:#fca5a5}}
ol.steps{list-style:none;margin:0;padding:0}ol.steps ol.steps{margin:6px 0 0 18px;padding-left:10px;border-left:2px solid var(--line)}
ol.steps li{padding:8px 0;border-bottom:1px solid var(--line)}ol.steps ol.steps li:last-child{border-bottom:0}
.step-head{display:flex;flex-wrap:wrap;gap:4px 12px;align-items:baseline}
section.resume{border:2px solid #d97706;border-radius:8px;padding:4px 14px 14px;margin-bottom:16px}
`;

/** The client library every page shares: fetch the API with the session cookie, errors in words. */
const LIB = `
var $ = function (id) { return document.getElementById(id); };
function say(el, text, kind) { el.textContent = text; el.className = "msg " + (kind || ""); el.hidden = !text; }
// The workspace this browser acts in, for sessions in several: the clanker_workspace cookie, which the server reads
// for cookie-authenticated requests as it reads x-workspace-id (none: the personal one). A cookie, not a header, so
// links, images, frames and EventSource act in the chosen workspace too.
function decoded(s) { try { return decodeURIComponent(s); } catch (e) { return s; } }
/** The address's i-th path segment, decoded; a malformed %-sequence stays as it is (the API then finds nothing). */
function pathPart(i) { return decoded(location.pathname.split("/")[i] || ""); }
function wsId() { var m = /(?:^|;\\s*)clanker_workspace=([^;]+)/.exec(document.cookie); return m ? decoded(m[1]) : ""; }
function setWs(id) { document.cookie = "clanker_workspace=" + (id ? encodeURIComponent(id) + "; max-age=31536000" : "; max-age=0") + "; path=/; samesite=strict"; }
// The cookie is the browser's, shared by its tabs: a tab acts in the workspace it was opened in (the one its header
// names), whatever another tab switches to after, so every call of this page names it (the profile's when none was
// chosen: see whoAmI).
var pageWs = wsId();
function inPageWs(headers) { if (pageWs) headers["x-workspace-id"] = pageWs; return headers; }
// opts.labels: the API's field names as this page names them ({ anthropicKey: "The key" }), for its messages.
async function api(path, opts) {
  opts = opts || {};
  var r = await fetch(path, { method: opts.method || "GET", credentials: "same-origin",
    headers: inPageWs(opts.body !== undefined ? { "content-type": "application/json" } : {}),
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined });
  var data = await r.json().catch(function () { return {}; });
  if (!r.ok) throw apiError(r, data, opts.labels);
  return data;
}
// An API refusal as an Error: its message in words, and the envelope's status, param and code, so a form can point
// at the field that failed. A page opened signed in whose session has ended since (signed out in another tab,
// expired) says so, not in the API's words for a client without a key; the page stays, so what was typed is kept.
var SESSION_ENDED = ["MISSING_CREDENTIALS", "INVALID_SESSION", "SESSION_EXPIRED"];
function apiError(r, data, labels) {
  var err = (data && data.error) || {};
  var ended = r.status === 401 && signedIn && SESSION_ENDED.indexOf(err.code) >= 0;
  var message = err.message || ("The server answered " + r.status);
  for (var name in labels || {}) message = message.split(name).join(labels[name]);
  var e = new Error(ended ? "Your session ended: sign in again (in another tab, to keep what is on this page)." : message);
  e.status = r.status; e.param = err.param; e.code = err.code; return e;
}
var signedIn = document.body.dataset.session === "1";
// A page the browser restores from its back/forward cache (Back after signing out) is asked for again, so it shows
// what the session now allows; the server marks every answer no-store, so it is not served from the HTTP cache either.
addEventListener("pageshow", function (ev) { if (ev.persisted) location.reload(); });
// The fragment stays a fragment (the login page's own): it may carry a token (an invitation's), which a query string would
// put in a proxy's access log and the browser's history.
function toLogin() { location.replace("/login?next=" + encodeURIComponent(location.pathname + location.search) + location.hash); }
var signedInAs = null; // the profile, once whoAmI has it
var switcherShown = Promise.resolve(false); // whether the person has several workspaces, once workspaces() knows
async function whoAmI() {
  if (!signedIn) { toLogin(); return null; }
  try { var me = await api("/api/v1/profile"); signedInAs = me; if (!pageWs) pageWs = me.workspaceId; var w = $("who-email"); if (w) { w.textContent = me.email; $("who").hidden = false; switcherShown = workspaces(); } return me; }
  catch (e) {
    if (e.status === 401) toLogin();
    // The chosen workspace is gone (left, or removed from it): back to the default one.
    else if (e.status === 404 && wsId()) { setWs(""); location.reload(); }
    else say($("page-error"), e.message, "err");
    return null;
  }
}
// The switcher shows only for people in more than one workspace; a switch applies to this tab and to what it opens
// next (other tabs keep their own: see claimWorkspace).
async function workspaces() {
  try {
    var list = (await api("/api/v1/workspaces?limit=100")).data, cur = await api("/api/v1/workspaces/current");
    if (list.length < 2) return false;
    var sel = $("ws-select"); sel.textContent = "";
    list.forEach(function (x) { var o = document.createElement("option"); o.value = x.id; o.textContent = x.name + " (" + x.role + ")"; sel.appendChild(o); });
    sel.value = cur.id; $("ws-wrap").hidden = false;
    // Switched by the button, not on change: arrow keys move through the options without leaving the page.
    $("ws-switch").onclick = function () { if (sel.value !== cur.id) { setWs(sel.value); location.reload(); } };
    return true;
  } catch (e) { say($("page-error"), "Could not list your workspaces: " + e.message, "err"); return false; }
}
// Why a page's own object did not load, in #page-error. Not found may mean deleted, or in another workspace; the
// advice to switch is given only to a person who has the switcher (several workspaces), once it is known.
async function sayLoadError(what, err) {
  if (err.status !== 404) { say($("page-error"), "Could not load this " + what + ": " + err.message, "err"); return; }
  var several = await switcherShown;
  say($("page-error"), "This " + what + " was not found: it may have been deleted, or be in another workspace." +
    (several ? " If it is in another of yours, choose that one under Workspace above and press Switch." : ""), "err");
}
// Cancel is offered where the API allows it (README's roles): owners and admins, or the person who started the run.
function mayCancel(run) { var me = signedInAs; return !!me && (me.role !== "member" || (!!run.startedBy && run.startedBy.userId === me.id)); }
// A tab shown again acts in its own workspace in every respect: links, downloads, frames and its event stream carry
// the cookie, which another tab may have switched meanwhile; the tab in front sets it back to its own, once the
// server says the same person still acts there (a tab left open after leaving it, or after signing out and another
// person signing in, must not push them into it).
var claiming = null;
function claimWorkspace() {
  if (!signedInAs || !pageWs || wsId() === pageWs) return Promise.resolve();
  return (claiming = claiming || api("/api/v1/profile").then(function (me) { if (me.id === signedInAs.id && me.workspaceId === pageWs) setWs(pageWs); }, function () {}).then(function () { claiming = null; }));
}
addEventListener("focus", claimWorkspace);
document.addEventListener("visibilitychange", function () { if (!document.hidden) claimWorkspace(); });
/**
 * The workspace's events of the given types, onEvent(type, data) each; onOpen on every (re)connection; the page's
 * #live-note, if it has one, says whether it is live. Only a page in view holds its stream: a browser gives a host six
 * connections over HTTP/1.1, shared by all its tabs, and six tabs holding one each left a seventh unable even to
 * fetch. A page hidden lets go of its stream; shown again, it reconnects after the last event it had (lastEventId),
 * so nothing in between is missed.
 */
function liveEvents(types, onEvent, onOpen) {
  var es = null, last = 0, ended = false, note = $("live-note");
  function connect() {
    if (es || ended || document.hidden) return;
    es = new EventSource("/api/events" + (last ? "?lastEventId=" + last : ""));
    if (note) note.textContent = "Connecting…";
    // Only a malformed message is skipped; an error in the page's own handler surfaces in the console.
    types.forEach(function (t) { es.addEventListener(t, function (m) { last = Number(m.lastEventId) || last; var d; try { d = JSON.parse(m.data); } catch (e) { return; } onEvent(t, d); }); });
    es.onerror = function () {
      // A dropped connection is retried by the browser (CONNECTING); a refusal (401 once the session has ended) closes
      // the stream for good, and "Reconnecting…" would be a promise nothing keeps. Shown again, the page tries anew.
      if (es.readyState !== EventSource.CLOSED) { if (note) note.textContent = "Reconnecting…"; return; }
      letGo();
      if (note) api("/api/v1/profile").then(function () { note.textContent = "Live updates stopped: reload this page to see new changes."; },
        function (e) { note.textContent = e.status === 401 ? "Live updates stopped: your session ended. Sign in again (reload this page) to see new changes." : "Live updates stopped: reload this page to see new changes."; });
    };
    es.onopen = function () { if (note) note.textContent = "Live"; if (onOpen) onOpen(); };
  }
  function letGo() { if (es) { es.close(); es = null; } }
  function onVisibility() { if (document.hidden) letGo(); else claimWorkspace().then(connect); }
  document.addEventListener("visibilitychange", onVisibility);
  addEventListener("pagehide", letGo);
  addEventListener("pageshow", connect);
  connect();
  return { close: function () { ended = true; letGo(); document.removeEventListener("visibilitychange", onVisibility); } };
}
function fmtMs(ms) { return ms == null ? "—" : ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s"; }
function fmtTime(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }
// A completed run whose answer did not end on its own: what its text is, and what to do about it (null: it did).
function stoppedNote(reason) {
  return reason === "max_tokens" ? "Cut off at the token limit: the output is not the whole answer (the operator sets the limit: CLANKER_MAX_OUTPUT_TOKENS)"
    : reason === "refusal" ? "The model declined to answer"
    : reason === "tool_use" ? "The model asked for a tool this run does not offer: the output may be incomplete"
    : null;
}
// The workspace choice goes with the session: the next person on this browser starts in their own.
// What this tab kept for the person (a run it started, an invitation joined) goes with them: the next one signed in
// here would be told of it.
async function signOut() { await api("/api/v1/auth/logout", { method: "POST", body: {} }); setWs(""); try { sessionStorage.clear(); } catch (e) { /* storage off */ } }
var so = $("sign-out");
if (so) so.onclick = async function () {
  try { await signOut(); location.href = "/login"; }
  catch (e) { say($("page-error"), "Could not sign out: " + e.message, "err"); }
};
`;

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * Whether the browser holds a session cookie at all (not whether it is valid: the page asks the API). A page without
 * one goes straight to the sign-in form instead of probing the API for a 401.
 */
export const hasSession = (request: Request) => /(?:^|;\s*)clanker_session=[^;]+/.test(request.headers.get("cookie") ?? "");

/** A whole page: `current` marks the nav entry; `body` is trusted static HTML; `script` runs after LIB. */
export function appDocument(opts: { title: string; current?: string; body: string; script?: string; session: boolean; nav?: boolean }): string {
  const nav = opts.nav === false
    ? ""
    : `<nav aria-label="Main"><ul>${NAV.map((n) => `<li><a href="${n.href}"${n.href === opts.current ? ' aria-current="page"' : ""}>${n.label}</a></li>`).join("")}</ul></nav>
<div class="who" id="who" hidden><span class="ws" id="ws-wrap" hidden><label>Workspace <select id="ws-select"></select></label> <button type="button" class="plain" id="ws-switch">Switch</button></span><span id="who-email"></span><button type="button" class="plain" id="sign-out">Sign out</button></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(opts.title)} — Clanker</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>${CSS}</style></head><body data-session="${opts.session ? "1" : "0"}">
<header><a class="brand" href="/executions">Clanker</a>${nav}</header>
<main><p id="page-error" class="msg err" role="alert" hidden></p>
${opts.body}
</main>
<script>${LIB}${opts.script ?? ""}</script></body></html>`;
}
