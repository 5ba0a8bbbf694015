// Settings pages for what the workspace plugs in: its own model key (BYOK), secrets and their skill bindings,
// connectors and integrations, and the webhook signing secret. Plain-JS page scripts over the public REST API;
// stored keys and secret values go in and are never shown back (the API does not return them).
import type { SettingsPage } from "./settings";

const BYOK_BODY = `<p class="muted">Runs in this workspace use your own Anthropic key instead of the server's; the key is sealed and never shown again.</p>
<p id="byok-state" class="msg" role="status"></p>
<form id="byok-form" class="stack"><label>Anthropic API key<input id="byok-key" type="password" required autocomplete="off" spellcheck="false"></label><button>Save key</button></form>
<div class="toolbar"><button type="button" class="plain" id="byok-remove" hidden>Remove the key</button></div>
<p id="byok-status" class="msg" role="status" hidden></p>`;

const BYOK_SCRIPT = `
function showByok(s) {
  $("byok-state").textContent = s.configured ? "A key ending in " + s.last4 + " is set (since " + fmtTime(s.updatedAt || s.createdAt) + ")." : "No key set: runs use the server's model, when it has one (ANTHROPIC_API_KEY or OPENAI_BASE_URL where it runs), charged in credits.";
  $("byok-remove").hidden = !s.configured;
}
async function load() { try { showByok(await api("/api/v1/byok")); } catch (e) { say($("byok-status"), "Could not read the BYOK status: " + e.message, "err"); } }
$("byok-form").onsubmit = async function (e) { e.preventDefault();
  try { showByok(await api("/api/v1/byok", { method: "PUT", body: { anthropicKey: $("byok-key").value }, labels: { anthropicKey: "The key" } })); $("byok-key").value = ""; say($("byok-status"), "Saved.", "ok"); }
  catch (err) { say($("byok-status"), "Could not save the key: " + err.message, "err"); } };
$("byok-remove").onclick = async function () {
  if (!confirm("Remove the workspace's Anthropic key?")) return;
  try { showByok(await api("/api/v1/byok", { method: "DELETE" })); say($("byok-status"), "Removed.", "ok"); }
  catch (err) { say($("byok-status"), "Could not remove the key: " + err.message, "err"); } };
`;

const SECRETS_BODY = `<p class="muted">Secrets are values bound to a skill as environment variables: bound as <code>ANTHROPIC_API_KEY</code> (or <code>OPENAI_API_KEY</code>, with an OpenAI-compatible endpoint configured) a secret is the key the skill's runs use, and they cost no credits. Their values go in and never come back out.</p>
<form id="secret-form" class="stack"><label>Secret name<input id="secret-name" required maxlength="100" autocomplete="off"></label>
<label>Secret value<input id="secret-value" type="password" required autocomplete="off"></label><button>Add secret</button></form>
<p id="secret-status" class="msg" role="status" hidden></p>
<h3>Secrets</h3>
<ul class="rows" id="secrets" aria-label="Secrets"></ul>
<form id="replace-form" class="stack" hidden><label><span id="replace-label">New value</span><input id="replace-value" type="password" required autocomplete="off"></label>
<div class="toolbar"><button>Save new value</button><button type="button" class="plain" id="replace-cancel">Cancel</button></div></form>
<h3>Skill bindings</h3>
<div class="toolbar"><label>Skill<select id="bind-skill"></select></label></div>
<ul class="rows" id="bindings" aria-label="Bindings of this skill"></ul>
<form id="bind-form" class="stack"><label>Secret to bind<select id="bind-secret" required></select></label>
<label>As environment variable<input id="bind-env" required maxlength="128" pattern="[A-Za-z_][A-Za-z0-9_]*" autocomplete="off"></label><button>Bind secret</button></form>
<p id="bind-status" class="msg" role="status" hidden></p>`;

const SECRETS_SCRIPT = `
var secrets = [];
async function loadSecrets() {
  try {
    secrets = (await api("/api/v1/secrets?limit=100")).data;
    var ul = $("secrets"); ul.replaceChildren(); var sel = $("bind-secret"); sel.replaceChildren();
    secrets.forEach(function (s) {
      ul.append(row([el("strong", s.name, "grow"), el("span", "updated " + fmtTime(s.updatedAt), "muted"),
        btn("Replace value", "Replace the value of " + s.name, function () { replaceValue(s); }, true),
        btn("Delete", "Delete secret " + s.name, function () { removeSecret(s); }, true)]));
      var o = el("option", s.name); o.value = s.id; sel.append(o);
    });
    if (!secrets.length) ul.append(emptyRow("No secrets yet."));
  } catch (e) { say($("secret-status"), "Could not list the secrets: " + e.message, "err"); }
}
// A masked field, not prompt(): a secret is never shown on screen as it is typed.
var replacing = null;
function replaceValue(s) { replacing = s; $("replace-label").textContent = "New value for " + s.name; $("replace-value").value = ""; $("replace-form").hidden = false; $("replace-value").focus(); }
$("replace-cancel").onclick = function () { replacing = null; $("replace-form").hidden = true; };
$("replace-form").onsubmit = async function (e) { e.preventDefault(); var s = replacing; if (!s) return;
  try { await api("/api/v1/secrets/" + encodeURIComponent(s.id), { method: "PATCH", body: { value: $("replace-value").value } });
    $("replace-form").hidden = true; replacing = null; say($("secret-status"), "Replaced the value of " + s.name + ".", "ok"); loadSecrets(); }
  catch (err) { say($("secret-status"), "Could not replace " + s.name + ": " + err.message, "err"); } };
async function removeSecret(s) {
  if (!confirm("Delete the secret " + s.name + " and its bindings?")) return;
  try { var r = await api("/api/v1/secrets/" + encodeURIComponent(s.id), { method: "DELETE" });
    say($("secret-status"), "Deleted " + s.name + (r.bindingsRemoved ? " and " + r.bindingsRemoved + " binding(s)." : "."), "ok");
    // A "Bound." from before may name a binding the delete just removed.
    say($("bind-status"), ""); loadSecrets(); loadBindings(); }
  catch (e) { say($("secret-status"), "Could not delete " + s.name + ": " + e.message, "err"); }
}
$("secret-form").onsubmit = async function (e) { e.preventDefault();
  try { var s = await api("/api/v1/secrets", { method: "POST", body: { name: $("secret-name").value, value: $("secret-value").value } });
    $("secret-name").value = ""; $("secret-value").value = ""; say($("secret-status"), "Added " + s.name + ".", "ok"); loadSecrets(); }
  catch (err) { say($("secret-status"), "Could not add the secret: " + err.message, "err"); } };
async function loadSkills() {
  try {
    var skills = (await api("/api/v1/skills?limit=100")).data, sel = $("bind-skill"); sel.replaceChildren();
    skills.forEach(function (k) { var o = el("option", k.name || k.slug); o.value = k.slug; sel.append(o); });
    $("bind-form").hidden = !skills.length;
    if (!skills.length) { $("bindings").replaceChildren(emptyRow("No skills installed: install one from the Library to bind secrets to it.")); return; }
    loadBindings();
  } catch (e) { say($("bind-status"), "Could not list the installed skills: " + e.message, "err"); }
}
async function loadBindings() {
  var slug = $("bind-skill").value; if (!slug) return;
  try {
    var list = (await api("/api/v1/skills/" + encodeURIComponent(slug) + "/secrets")).data, ul = $("bindings"); ul.replaceChildren();
    list.forEach(function (b) { ul.append(row([el("code", b.envVar, "grow"), el("span", "= " + b.secretName),
      btn("Remove", "Remove binding " + b.envVar, async function () {
        try { await api("/api/v1/skills/" + encodeURIComponent(slug) + "/secrets/" + encodeURIComponent(b.id), { method: "DELETE" }); say($("bind-status"), "Removed " + b.envVar + ".", "ok"); loadBindings(); }
        catch (e) { say($("bind-status"), "Could not remove " + b.envVar + ": " + e.message, "err"); } }, true)])); });
    if (!list.length) ul.append(emptyRow("No secrets bound to this skill."));
  } catch (e) { say($("bind-status"), "Could not list the bindings: " + e.message, "err"); }
}
$("bind-skill").onchange = loadBindings;
$("bind-form").onsubmit = async function (e) { e.preventDefault();
  var envVar = $("bind-env").value;
  try { await api("/api/v1/skills/" + encodeURIComponent($("bind-skill").value) + "/secrets", { method: "POST", body: { secretId: $("bind-secret").value, envVar: envVar } });
    // Runs are model calls: only the provider keys reach one (README), so another name is kept but read by nothing.
    var used = envVar === "ANTHROPIC_API_KEY" || envVar === "OPENAI_API_KEY";
    $("bind-env").value = ""; say($("bind-status"), used ? "Bound." : "Bound, but no run reads " + envVar + ": runs use only ANTHROPIC_API_KEY and OPENAI_API_KEY. Remove it below if that was a slip.", used ? "ok" : "err"); loadBindings(); }
  catch (err) { say($("bind-status"), "Could not bind the secret: " + err.message, "err"); } };
function load() { loadSecrets(); loadSkills(); }
`;

const CONNECTORS_BODY = `<p class="muted">Connectors give runs a source of files (repositories, folders); integrations let workflows act elsewhere (chat, mail, webhooks).</p>
<h3>Connectors</h3>
<ul class="rows" id="connectors" aria-label="Connectors"></ul>
<h3>Integrations</h3>
<ul class="rows" id="integrations" aria-label="Integrations"></ul>
<p id="conn-status" class="msg" role="status" hidden></p>`;

const CONNECTORS_SCRIPT = `
var canManage = false;
function stateOf(x) { return x.connected ? "connected" + (x.account ? " as " + x.account : "") : x.configured ? "not connected" : "not available: " + (x.reason || "not configured on this server"); }
// An OAuth connect answers with the provider's URL: the browser goes there and comes back to the callback.
async function connect(kind, x, body) {
  try { var r = await api("/api/v1/" + kind + "/" + encodeURIComponent(x.id) + "/connect", { method: "POST", body: body });
    if (r.url) { location.href = r.url; return; } say($("conn-status"), "Connected " + x.name + ".", "ok"); loadAll(); }
  catch (e) { say($("conn-status"), "Could not connect " + x.name + ": " + e.message, "err"); }
}
async function disconnect(kind, x) {
  if (!confirm("Disconnect " + x.name + " and forget its credentials?")) return;
  try { await api("/api/v1/" + kind + "/" + encodeURIComponent(x.id), { method: "DELETE" }); say($("conn-status"), "Disconnected " + x.name + ".", "ok"); loadAll(); }
  catch (e) { say($("conn-status"), "Could not disconnect " + x.name + ": " + e.message, "err"); }
}
// A name can be both a connector and an integration (GitHub): the buttons' accessible names say which.
function itemRow(kind, x, credLabel, bodyOf) {
  var what = "the " + x.name + " " + (kind === "connectors" ? "connector" : "integration");
  var parts = [el("strong", x.name), el("span", x.description, "grow muted"), el("span", stateOf(x), "badge" + (x.connected ? " completed" : ""))];
  if (canManage && x.connected) parts.push(btn("Disconnect", "Disconnect " + what, function () { disconnect(kind, x); }, true));
  else if (canManage && x.configured) {
    var f = el("form", null, "toolbar"), lab = el("label", credLabel + " for " + x.name + " (optional)"), inp = el("input"), go = el("button", "Connect");
    inp.autocomplete = "off"; go.setAttribute("aria-label", "Connect " + what);
    lab.append(inp); f.append(lab, go);
    f.onsubmit = function (e) { e.preventDefault(); var b; try { b = bodyOf(inp.value.trim()); } catch (err) { say($("conn-status"), err.message, "err"); return; } connect(kind, x, b); };
    parts.push(f);
  }
  return row(parts);
}
async function loadAll() {
  try {
    var c = (await api("/api/v1/connectors")).data, ul = $("connectors"); ul.replaceChildren();
    c.forEach(function (x) { ul.append(itemRow("connectors", x, "Token or repository URL", function (v) { return !v ? {} : /^(https?|file):/.test(v) ? { url: v } : { token: v }; })); });
    if (!c.length) ul.append(emptyRow("No connectors on this server."));
  } catch (e) { say($("conn-status"), "Could not list the connectors: " + e.message, "err"); }
  try {
    var g = (await api("/api/v1/integrations")).data, ul2 = $("integrations"); ul2.replaceChildren();
    g.forEach(function (x) { ul2.append(itemRow("integrations", x, "Credentials as JSON", function (v) {
      if (!v) return {}; try { return { credentials: JSON.parse(v) }; } catch (e) { throw new Error("The credentials for " + x.name + " are not valid JSON."); } })); });
    if (!g.length) ul2.append(emptyRow("No integrations on this server."));
  } catch (e) { say($("conn-status"), "Could not list the integrations: " + e.message, "err"); }
}
function load(admin) { canManage = admin; loadAll(); }
`;

const WEBHOOKS_BODY = `<p class="muted">A run started with a <code>callbackUrl</code> posts its result there, signed with this workspace's secret (Standard Webhooks). Verify the signature with the secret below.</p>
<dl class="facts"><dt>Signature header</dt><dd id="wh-header">—</dd><dt>Scheme</dt><dd id="wh-scheme">—</dd></dl>
<div class="toolbar"><label class="grow">Signing secret<input id="wh-secret" type="password" readonly spellcheck="false"></label>
<button type="button" class="plain" id="wh-show">Show secret</button></div>
<div class="toolbar"><label>When rotated, the old secret<select id="wh-overlap"><option value="0">stops at once (it leaked)</option><option value="3600">keeps signing for 1 hour</option><option value="86400">keeps signing for 24 hours</option><option value="604800">keeps signing for 7 days</option></select></label>
<button type="button" id="wh-rotate">Rotate secret</button></div>
<p id="wh-previous" class="muted" hidden></p>
<p id="wh-status" class="msg" role="status" hidden></p>`;

const WEBHOOKS_SCRIPT = `
function showSecret(s) {
  $("wh-secret").value = s.secret; $("wh-header").textContent = s.signatureHeader; $("wh-scheme").textContent = s.scheme;
  var p = $("wh-previous"); p.hidden = !s.previousSecretExpiresAt;
  if (s.previousSecretExpiresAt) p.textContent = "The secret before the last rotation also signs every delivery (a second v1) until " + new Date(s.previousSecretExpiresAt).toLocaleString() + ": switch your receivers to this one before then.";
}
// The secret is read only when asked for, so it is never in the page (or a screenshot of it) by default.
var fetched = false;
function load() { $("wh-secret").placeholder = "Hidden: press Show secret"; }
$("wh-show").onclick = async function () {
  var i = $("wh-secret"), b = this;
  if (!fetched) {
    try { showSecret(await api("/api/v1/webhooks/secret")); fetched = true; }
    catch (e) { say($("wh-status"), "Could not read the signing secret: " + e.message, "err"); return; }
  }
  var hide = i.type === "text"; i.type = hide ? "password" : "text"; b.textContent = hide ? "Show secret" : "Hide secret"; };
$("wh-rotate").onclick = async function () {
  var overlap = Number($("wh-overlap").value);
  if (!confirm(overlap ? "Rotate the signing secret? Deliveries are signed with both secrets until the old one ends; switch your receivers to the new one before then." : "Rotate the signing secret? The old one stops at once: receivers refuse deliveries until they have the new one.")) return;
  try { showSecret(await api("/api/v1/webhooks/secret/rotate", { method: "POST", body: { previousSecretValidSeconds: overlap } })); fetched = true; say($("wh-status"), overlap ? "Rotated: deliveries are signed with the new secret, and with the old one too until it ends." : "Rotated: deliveries from now on are signed with the new secret.", "ok"); }
  catch (e) { say($("wh-status"), "Could not rotate the secret: " + e.message, "err"); } };
`;

export const providerPages: SettingsPage[] = [
  { slug: "byok", label: "BYOK", admin: true, body: BYOK_BODY, script: BYOK_SCRIPT },
  { slug: "secrets", label: "Secrets", admin: true, body: SECRETS_BODY, script: SECRETS_SCRIPT },
  { slug: "connectors", label: "Connectors", admin: false, body: CONNECTORS_BODY, script: CONNECTORS_SCRIPT },
  { slug: "webhooks", label: "Webhooks", admin: true, body: WEBHOOKS_BODY, script: WEBHOOKS_SCRIPT },
];
