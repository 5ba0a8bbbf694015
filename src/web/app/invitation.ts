// /invitations/accept#token=inv_…: the link an invitation mail carries. The invited person, signed in with the
// invited address, accepts it here (the API's POST /api/v1/invitations/accept, with the session cookie). The token
// rides in the fragment, which no request, log or Referer carries, and leaves the address once used.
import { appDocument } from "./shell";

const BODY = `<h1>Join a workspace</h1>
<p id="inv-text" class="muted">You were invited to a workspace on this server.</p>
<div class="toolbar"><button type="button" id="accept">Accept the invitation</button>
<a id="go" href="/executions" hidden>Go to the workspace</a>
<button type="button" id="switch-person" class="plain" hidden>Sign out and continue as the invited address</button></div>
<p id="accept-status" class="msg" role="status" hidden></p>`;

const SCRIPT = `
var token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
// The token leaves the address once used, so a reload would find none: what was joined is kept for this tab, and
// a reload says it again instead of "no invitation".
var JOINED = "clanker-invitation-joined";
function accepted(ws) {
  // The workspace just joined is the one this browser acts in from now on.
  setWs(ws.id);
  history.replaceState(null, "", location.pathname);
  try { sessionStorage.setItem(JOINED, JSON.stringify({ name: ws.name, role: ws.role })); } catch (e) { /* storage off: a reload says less */ }
  showJoined(ws);
}
function showJoined(ws) {
  say($("accept-status"), "You are now " + roleWords(ws.role) + " of " + ws.name + ".", "ok");
  $("accept").hidden = true; $("go").hidden = false;
}
function joinedBefore() { try { return JSON.parse(sessionStorage.getItem(JOINED) || "null"); } catch (e) { return null; } }
// Signed in as someone else: sign out, then sign-in brings the invitee back here (toLogin keeps the token in next=).
$("switch-person").onclick = async function () {
  try { await signOut(); toLogin(); }
  catch (e) { say($("accept-status"), "Could not sign out: " + e.message, "err"); }
};
$("accept").onclick = async function () {
  $("accept").disabled = true;
  try { accepted(await api("/api/v1/invitations/accept", { method: "POST", body: { token: token } })); }
  catch (e) { $("accept").disabled = false; say($("accept-status"), e.status === 404 ? "This invitation is not valid (withdrawn, or the link was cut short): ask whoever invited you to send a new one." : "Could not accept the invitation: " + e.message, "err"); }
};
function roleWords(role) { return role === "admin" ? "an admin" : role === "owner" ? "an owner" : "a member"; }
whoAmI().then(async function (me) {
  if (!me) return;
  var joined = joinedBefore();
  if (!token && joined) { $("accept").hidden = true; $("inv-text").textContent = "Signed in as " + me.email + "."; showJoined(joined); return; }
  if (!token) { $("accept").hidden = true; say($("page-error"), "This address holds no invitation: open the link in the invitation mail again.", "err"); return; }
  // What joining means, before the button: which workspace, what role, who asked (accepting also makes it the one
  // this browser works in).
  $("accept").hidden = true;
  try {
    var inv = await api("/api/v1/invitations/preview", { method: "POST", body: { token: token } });
    if (inv.status === "accepted") {
      $("inv-text").textContent = "You accepted this invitation already: you are in the workspace " + inv.workspace.name + ".";
      setWs(inv.workspace.id); $("go").hidden = false;
      return;
    }
    var who = inv.invitedBy ? (inv.invitedBy.name || inv.invitedBy.email) + (inv.invitedBy.email && inv.invitedBy.name !== inv.invitedBy.email ? " (" + inv.invitedBy.email + ")" : "") : "Someone";
    $("inv-text").textContent = who + " invited you, " + me.email + ", to join the workspace " + inv.workspace.name + " as " + roleWords(inv.role) + ". Accepting makes it the workspace you work in here.";
    $("accept").textContent = "Join " + inv.workspace.name;
    $("accept").hidden = false;
  } catch (e) {
    $("inv-text").textContent = "Signed in as " + me.email + ".";
    say($("accept-status"), e.status === 404 ? "This invitation is not valid (withdrawn, or the link was cut short): ask whoever invited you to send a new one." : e.message, "err");
    if (e.code === "WRONG_RECIPIENT") {
      // The refusal names the invited address (the error envelope has no field for it); without it, the words stay general.
      var invitee = /[^\\s;]+@[^\\s;]+/.exec(e.message);
      if (invitee) $("switch-person").textContent = "Sign out and continue as " + invitee[0];
      $("switch-person").hidden = false;
    }
  }
});
`;

export const invitationPage = (session: boolean) => appDocument({ title: "Join a workspace", body: BODY, script: SCRIPT, session });
