// /oauth/authorize: where an MCP client (a desktop app, an IDE) sends a person to approve its access. Signed out,
// the page sends them through sign-in and back; signed in, it names the app, where the answer goes and the workspace
// it gets, and Approve / Deny post the decision and follow the redirect back to the app.
import { appDocument } from "./app/shell";
import { escapeHtml } from "./oauth-result";
import { AUTHORIZE_KEYS } from "../modules/signin/oauth";

const SCRIPT = `
// Only the parameters an authorization request has: anything else the app added is not ours to pass on.
var KEYS = ${JSON.stringify(AUTHORIZE_KEYS)};
var q = new URLSearchParams(location.search), request = {};
KEYS.forEach(function (k) { if (q.has(k)) request[k] = q.get(k); });
function status(text, kind) { say($("status"), text, kind); }
async function decide(decision) {
  $("approve").disabled = $("deny").disabled = true;
  try {
    var r = await api("/api/v1/oauth/authorize", { method: "POST", body: Object.assign({ decision: decision, workspace_id: shownWorkspace }, request) });
    status(decision === "approve" ? "Approved: taking you back to the app…" : "Denied: taking you back to the app…", "ok");
    location.assign(r.redirect_to);
  } catch (e) { status(e.message, "err"); $("approve").disabled = $("deny").disabled = false; }
}
var shownWorkspace;
(async function () {
  var me = await whoAmI();
  if (!me) return;
  try { var ws = await api("/api/v1/workspaces/current"); $("ws-name").textContent = ws.name; shownWorkspace = ws.id; } catch (e) { status("Could not read your workspace: " + e.message, "err"); return; }
  $("who-line").textContent = me.email; $("consent").hidden = false;
  // Not focused, and not clickable for a moment: a page that opened this one must not turn a keystroke or a
  // double-click meant for itself into an approval.
  setTimeout(function () { $("approve").disabled = $("deny").disabled = false; }, 700);
})();
$("approve").onclick = function () { decide("approve"); };
$("deny").onclick = function () { decide("deny"); };
`;

/** The consent page for a request whose client and redirect URI were found good. */
export function oauthAuthorizePage(r: { clientName: string; redirectUri: string; session: boolean }): string {
  const target = new URL(r.redirectUri);
  // What the person can check: the host a web app answers on, or the scheme of a native app.
  const where = target.protocol === "https:" || target.protocol === "http:" ? target.host : target.protocol.slice(0, -1);
  const body = `<h1>Allow ${escapeHtml(r.clientName)} to use Clanker?</h1>
<p class="muted">“${escapeHtml(r.clientName)}” is the name the app gave itself when it registered: check it is the app you are connecting.</p>
<div id="consent" hidden>
<p><strong>${escapeHtml(r.clientName)}</strong> asks to act as <strong id="who-line"></strong> in the workspace <strong id="ws-name"></strong>:
to run skills, read and change what you can there. It gets an API key of yours, listed under <a href="/settings/keys">Settings → API keys</a>,
where you can revoke it at any time. In several workspaces? Pick another with the switcher above before approving.</p>
<p class="muted">Your answer goes to <code>${escapeHtml(where)}</code>. Approve only if you just asked that app to connect to Clanker.</p>
<div class="toolbar"><button type="button" id="approve" disabled>Approve</button><button type="button" class="plain" id="deny" disabled>Deny</button></div>
</div>
<p id="status" class="msg" role="status" hidden></p>`;
  return appDocument({ title: "Allow access", body, script: SCRIPT, session: r.session });
}

/** An authorization request this server cannot send back to its app: what happened and what to do. */
export function oauthAuthorizeErrorPage(message: string, session: boolean): string {
  const body = `<h1>This sign-in link does not work</h1>
<p class="msg err">${escapeHtml(message)}</p>
<p>Nothing was shared. Start connecting again from the app; if it keeps failing, remove Clanker from the app's MCP servers and add it again, so the app registers anew.</p>`;
  return appDocument({ title: "Sign-in link not valid", body, session, nav: false });
}
