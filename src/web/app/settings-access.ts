// Settings pages for who gets in: API keys (created and shown once with a copy button, revoked) and the
// workspace's members and invitations. Plain-JS page scripts over the public REST API.
import type { SettingsPage } from "./settings";

const KEYS_BODY = `<p class="muted">An API key acts as you in this workspace: send it as the <code>x-api-key</code> header (or <code>Authorization: Bearer</code>). The list holds every key of the workspace, each with the person it acts as.</p>
<form id="key-form" class="stack"><label>Key name<input id="key-name" name="name" required maxlength="100" autocomplete="off"></label><button>Create key</button></form>
<p id="key-status" class="msg" role="status" tabindex="-1" hidden></p>
<section id="new-key" aria-labelledby="new-key-title" hidden>
<h3 id="new-key-title">Your new key</h3>
<p class="msg ok">Copy it now: it is shown only this once.</p>
<div class="toolbar"><label class="grow">New API key<input id="new-key-value" readonly spellcheck="false"></label><button type="button" id="copy-key">Copy</button></div>
</section>
<h3>Keys</h3>
<ul class="rows" id="keys" aria-label="API keys"></ul>
<div class="toolbar"><button type="button" class="plain" id="more-keys" hidden>Load more keys</button></div>`;

const KEYS_SCRIPT = `
var keysAfter = null, isAdmin = false;
function keyRow(k) {
  var badge = el("span", k.status, "badge " + (k.status === "active" ? "completed" : "cancelled"));
  var parts = [el("strong", k.name, "grow"), keyOwner(k), el("code", k.prefix + "…" + k.last4), badge,
    el("span", "created " + fmtTime(k.createdAt), "muted"), el("span", k.lastUsedAt ? "used " + fmtTime(k.lastUsedAt) : "never used", "muted")];
  // A member may revoke only their own keys (the service refuses the rest): offer only what will work.
  if (k.status === "active" && (isAdmin || k.userId === me.id)) parts.push(btn("Revoke", "Revoke key " + k.name, function () { revoke(k, this); }, true));
  var li = row(parts); li.dataset.keyId = k.id; return li;
}
// Whose a key is (it acts as that person): the reader's own marked as theirs, another's by name and address.
function keyOwner(k) {
  if (me && k.userId === me.id) return el("span", "Yours", "badge");
  var o = k.owner;
  if (!o) return el("span", "An agent's (unclaimed)", "muted");
  return el("span", "Owner: " + (o.email && o.name && o.name !== o.email ? o.name + " (" + o.email + ")" : o.name || o.email), "muted");
}
async function loadKeys(more) {
  try {
    var page = await api("/api/v1/api-keys?limit=50" + (more && keysAfter ? "&after_id=" + encodeURIComponent(keysAfter) : ""));
    var ul = $("keys"); if (!more) ul.replaceChildren();
    page.data.forEach(function (k) { ul.append(keyRow(k)); });
    if (!ul.children.length) ul.append(emptyRow("No keys yet."));
    keysAfter = page.last_id; $("more-keys").hidden = !page.has_more;
  } catch (e) { say($("key-status"), "Could not list the keys: " + e.message, "err"); }
}
var shownKey = null;
async function revoke(k, button) {
  if (!confirm("Revoke the key " + k.name + "? Anything using it stops working at once.")) return;
  button.disabled = true;
  try { await api("/api/v1/api-keys/" + encodeURIComponent(k.id) + "/revoke", { method: "POST" });
    // The key just made, revoked: not left on show to be copied. Focus goes to what happened (its button is gone).
    if (shownKey === k.id) { $("new-key").hidden = true; $("new-key-value").value = ""; shownKey = null; }
    say($("key-status"), "Revoked " + k.name + ".", "ok"); $("key-status").focus(); loadKeys(false); }
  catch (e) { button.disabled = false; say($("key-status"), "Could not revoke " + k.name + ": " + e.message, "err"); }
}
$("key-form").onsubmit = async function (e) { e.preventDefault();
  try {
    var k = await api("/api/v1/api-keys", { method: "POST", body: { name: $("key-name").value } });
    $("new-key-value").value = k.key; $("new-key").hidden = false; shownKey = k.id; $("key-name").value = ""; $("new-key-value").select();
    say($("key-status"), "Created " + k.name + ".", "ok"); loadKeys(false);
  } catch (err) { say($("key-status"), "Could not create the key: " + err.message, "err"); } };
$("copy-key").onclick = async function () {
  var v = $("new-key-value").value;
  try { await navigator.clipboard.writeText(v); }
  catch (e) { $("new-key-value").select(); if (!document.execCommand("copy")) { say($("key-status"), "Copying was refused by the browser: select the key and copy it by hand.", "err"); return; } }
  say($("key-status"), "Copied the key to the clipboard.", "ok");
};
$("more-keys").onclick = function () { loadKeys(true); };
function load(admin) { isAdmin = admin; loadKeys(false); }
`;

const MEMBERS_BODY = `<ul class="rows" id="members" aria-label="Members"></ul>
<div class="toolbar"><button type="button" class="plain" id="more-members" hidden>Load more members</button></div>
<section data-admin hidden aria-labelledby="invite-title">
<h3 id="invite-title">Invite someone</h3>
<form id="invite-form" class="stack"><label>Email to invite<input id="invite-email" type="email" required autocomplete="off"></label>
<label>Role<select id="invite-role"><option value="member">Member</option><option value="admin">Admin</option></select></label><button>Send invitation</button></form>
<p id="invite-status" class="msg" role="status" hidden></p>
<p class="muted">The invitation is mailed (or written to <code>data/outbox/</code>); the person accepts it signed in as that address.</p>
</section>
<section data-admin hidden aria-labelledby="pending-title">
<h3 id="pending-title">Pending invitations</h3>
<ul class="rows" id="invitations" aria-label="Pending invitations"></ul>
<div class="toolbar"><button type="button" class="plain" id="more-invitations" hidden>Load more invitations</button></div>
</section>
<p class="muted">Owners and admins change roles and remove members; only owners make or change owners, and a workspace keeps at least one. Anyone may leave. A removed member's API keys for this workspace are revoked.</p>
<p id="members-status" class="msg" role="status" tabindex="-1" hidden></p>`;

const MEMBERS_SCRIPT = `
var membersAfter = null, invitationsAfter = null, isAdmin = false, personal = false, owners = 0;
var wsPath = function () { return "/api/v1/workspaces/" + encodeURIComponent(me.workspaceId); };
function done(text) { say($("members-status"), text, "ok"); $("members-status").focus(); loadMembers(false); }
function failed(what, e) { say($("members-status"), "Could not " + what + ": " + e.message, "err"); $("members-status").focus(); }
function memberRow(m) {
  var who = m.name || m.email || m.id, self = m.id === me.id;
  var parts = [el("strong", who + (self ? " (you)" : ""), "grow"), el("span", m.email || "")];
  // Offer only what the service allows: owners are the owners' business, and nobody changes their own role here.
  var mayManage = isAdmin && !self && (m.role !== "owner" || me.role === "owner");
  if (mayManage) {
    var sel = el("select"); sel.setAttribute("aria-label", "Role of " + who);
    // A personal workspace has only its own owner; a workspace keeps one.
    (me.role === "owner" && !personal ? ["member", "admin", "owner"] : ["member", "admin"]).forEach(function (r) { var o = el("option", r); o.value = r; o.selected = r === m.role; sel.append(o); });
    sel.onchange = async function () { sel.disabled = true;
      try { await api(wsPath() + "/members/" + encodeURIComponent(m.id), { method: "PATCH", body: { role: sel.value } }); done(who + " is now " + sel.value + "."); }
      catch (e) { sel.disabled = false; sel.value = m.role; failed("change " + who + "'s role", e); } };
    parts.push(sel);
    parts.push(btn("Remove", "Remove " + who, function () { removeMember(m, who, this); }, true));
  } else parts.push(el("span", m.role, "badge"));
  if (self && !(m.role === "owner" && owners <= 1)) parts.push(btn("Leave", "Leave this workspace", function () { removeMember(m, who, this); }, true));
  parts.push(el("span", "joined " + fmtTime(m.joinedAt), "muted"));
  return row(parts);
}
async function removeMember(m, who, button) {
  var self = m.id === me.id;
  if (!confirm(self ? "Leave this workspace? Your API keys for it are revoked, and only an invitation brings you back." : "Remove " + who + " from this workspace? Their API keys for it are revoked at once.")) return;
  button.disabled = true;
  try { await api(wsPath() + "/members/" + encodeURIComponent(m.id), { method: "DELETE" });
    if (self) { location.assign("/"); return; }
    done("Removed " + who + "."); }
  catch (e) { button.disabled = false; failed(self ? "leave" : "remove " + who, e); }
}
async function loadMembers(more) {
  try {
    var page = await api(wsPath() + "/members?limit=50" + (more && membersAfter ? "&after_id=" + encodeURIComponent(membersAfter) : ""));
    if (!more) { owners = 0; personal = (await api("/api/v1/workspaces/current")).personal; }
    page.data.forEach(function (m) { if (m.role === "owner") owners++; });
    var ul = $("members"); if (!more) ul.replaceChildren();
    page.data.forEach(function (m) { ul.append(memberRow(m)); });
    membersAfter = page.last_id; $("more-members").hidden = !page.has_more;
  } catch (e) { say($("members-status"), "Could not list the members: " + e.message, "err"); }
}
async function loadInvitations(more) {
  try {
    var page = await api(wsPath() + "/invitations?limit=50" + (more && invitationsAfter ? "&after_id=" + encodeURIComponent(invitationsAfter) : ""));
    var ul = $("invitations"); if (!more) ul.replaceChildren();
    page.data.forEach(function (i) {
      ul.append(row([el("strong", i.email, "grow"), el("span", i.role, "badge"), el("span", "expires " + fmtTime(i.expiresAt), "muted"),
        btn("Withdraw", "Withdraw the invitation to " + i.email, async function () {
          var b = this; b.disabled = true;
          try { await api(wsPath() + "/invitations/" + encodeURIComponent(i.id), { method: "DELETE" }); say($("invite-status"), "Withdrew the invitation to " + i.email + ".", "ok"); loadInvitations(false); }
          catch (e) { b.disabled = false; say($("invite-status"), "Could not withdraw the invitation to " + i.email + ": " + e.message, "err"); } }, true)]));
    });
    if (!ul.children.length) ul.append(emptyRow("No pending invitations."));
    invitationsAfter = page.last_id; $("more-invitations").hidden = !page.has_more;
  } catch (e) { say($("invite-status"), "Could not list the invitations: " + e.message, "err"); }
}
$("invite-form").onsubmit = async function (e) { e.preventDefault();
  var email = $("invite-email").value;
  try { await api(wsPath() + "/invitations", { method: "POST", body: { email: email, role: $("invite-role").value } });
    say($("invite-status"), "Invited " + email + ".", "ok"); $("invite-email").value = ""; loadInvitations(false); }
  catch (err) { say($("invite-status"), "Could not invite " + email + ": " + err.message, "err"); } };
$("more-members").onclick = function () { loadMembers(true); };
$("more-invitations").onclick = function () { loadInvitations(true); };
function load(admin) { isAdmin = admin; loadMembers(false); if (admin) loadInvitations(false); }
`;

export const accessPages: SettingsPage[] = [
  { slug: "keys", label: "API keys", admin: false, body: KEYS_BODY, script: KEYS_SCRIPT },
  { slug: "members", label: "Members", admin: false, body: MEMBERS_BODY, script: MEMBERS_SCRIPT },
];
