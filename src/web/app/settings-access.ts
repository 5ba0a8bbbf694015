// Settings pages for who gets in: API keys (created and shown once with a copy button, revoked) and the
// workspace's members and invitations. Plain-JS page scripts over the public REST API.
import type { SettingsPage } from "./settings";

const KEYS_BODY = `<p class="muted">An API key acts as you in this workspace: send it as the <code>x-api-key</code> header (or <code>Authorization: Bearer</code>).</p>
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
  var parts = [el("strong", k.name, "grow"), el("code", k.prefix + "…" + k.last4), badge,
    el("span", "created " + fmtTime(k.createdAt), "muted"), el("span", k.lastUsedAt ? "used " + fmtTime(k.lastUsedAt) : "never used", "muted")];
  // A member may revoke only their own keys (the service refuses the rest): offer only what will work.
  if (k.status === "active" && (isAdmin || k.userId === me.id)) parts.push(btn("Revoke", "Revoke key " + k.name, function () { revoke(k, this); }, true));
  var li = row(parts); li.dataset.keyId = k.id; return li;
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
<p class="muted">Changing a member's role or removing a member is not in the API yet, so this page does not offer it.</p>
<p id="members-status" class="msg" role="status" hidden></p>`;

const MEMBERS_SCRIPT = `
var membersAfter = null;
async function loadMembers(more) {
  try {
    var page = await api("/api/v1/workspaces/" + encodeURIComponent(me.workspaceId) + "/members?limit=50" + (more && membersAfter ? "&after_id=" + encodeURIComponent(membersAfter) : ""));
    var ul = $("members"); if (!more) ul.replaceChildren();
    page.data.forEach(function (m) {
      ul.append(row([el("strong", m.name || m.email || m.id, "grow"), el("span", m.email || ""), el("span", m.role, "badge"), el("span", "joined " + fmtTime(m.joinedAt), "muted")]));
    });
    membersAfter = page.last_id; $("more-members").hidden = !page.has_more;
  } catch (e) { say($("members-status"), "Could not list the members: " + e.message, "err"); }
}
$("invite-form").onsubmit = async function (e) { e.preventDefault();
  var email = $("invite-email").value;
  try { await api("/api/v1/workspaces/" + encodeURIComponent(me.workspaceId) + "/invitations", { method: "POST", body: { email: email, role: $("invite-role").value } });
    say($("invite-status"), "Invited " + email + ".", "ok"); $("invite-email").value = ""; }
  catch (err) { say($("invite-status"), "Could not invite " + email + ": " + err.message, "err"); } };
$("more-members").onclick = function () { loadMembers(true); };
function load() { loadMembers(false); }
`;

export const accessPages: SettingsPage[] = [
  { slug: "keys", label: "API keys", admin: false, body: KEYS_BODY, script: KEYS_SCRIPT },
  { slug: "members", label: "Members", admin: false, body: MEMBERS_BODY, script: MEMBERS_SCRIPT },
];
