// /invitations/accept#token=inv_…: the link an invitation mail carries. The invited person, signed in with the
// invited address, accepts it here (the API's POST /api/v1/invitations/accept, with the session cookie). The token
// rides in the fragment, which no request, log or Referer carries, and leaves the address once used.
import { appDocument } from "./shell";

const BODY = `<h1>Join a workspace</h1>
<p id="inv-text" class="muted">You were invited to a workspace on this server.</p>
<div class="toolbar"><button type="button" id="accept">Accept the invitation</button>
<a id="go" href="/executions" hidden>Go to the workspace</a></div>
<p id="accept-status" class="msg" role="status" hidden></p>`;

const SCRIPT = `
var token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
function accepted(ws) {
  // The workspace just joined is the one this browser acts in from now on.
  setWs(ws.id);
  history.replaceState(null, "", location.pathname);
  say($("accept-status"), "You are now " + (ws.role === "admin" ? "an admin" : ws.role === "owner" ? "an owner" : "a member") + " of " + ws.name + ".", "ok");
  $("accept").hidden = true; $("go").hidden = false;
}
$("accept").onclick = async function () {
  $("accept").disabled = true;
  try { accepted(await api("/api/v1/invitations/accept", { method: "POST", body: { token: token } })); }
  catch (e) { $("accept").disabled = false; say($("accept-status"), e.status === 404 ? "This invitation is not valid (withdrawn, or the link was cut short): ask whoever invited you to send a new one." : "Could not accept the invitation: " + e.message, "err"); }
};
whoAmI().then(function (me) {
  if (!me) return;
  if (!token) { $("accept").hidden = true; say($("page-error"), "This address holds no invitation: open the link in the invitation mail again.", "err"); return; }
  $("inv-text").textContent = "Signed in as " + me.email + ": the invitation must be for this address (sign out and in again with that one if not).";
});
`;

export const invitationPage = (session: boolean) => appDocument({ title: "Join a workspace", body: BODY, script: SCRIPT, session });
