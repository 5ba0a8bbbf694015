// The /settings frame: the sub-navigation, the role gate (owner/admin pages hidden from members, "ask an owner"
// on a direct visit) and the small DOM helpers every settings page script shares. The pages themselves are in
// settings-*.ts; each is a client of the public REST API only, and the service enforces the roles regardless.
import { appDocument } from "./shell";
import { accessPages } from "./settings-access";
import { providerPages } from "./settings-providers";
import { accountPages } from "./settings-account";

export interface SettingsPage {
  slug: string;
  label: string;
  /** Only owners and admins may use it (the services' assertRole(ctx, "admin")): hidden from members. */
  admin: boolean;
  body: string;
  /** Plain JS run once the role is known: `load(admin)` is called with whether the viewer is an owner/admin. */
  script: string;
}

export const SETTINGS_PAGES: SettingsPage[] = [...accessPages, ...providerPages, ...accountPages];

const subnav = (current: string) =>
  `<nav aria-label="Settings" class="subnav"><ul>${SETTINGS_PAGES.map(
    (p) =>
      `<li${p.admin ? " data-admin hidden" : ""}><a href="/settings/${p.slug}"${p.slug === current ? ' aria-current="page"' : ""}>${p.label}</a></li>`,
  ).join("")}</ul></nav>`;

/** Shared by every settings page: builds rows with textContent only (API text is never markup). */
const SETTINGS_LIB = `
var me = null;
function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
function btn(text, label, onclick, plain) { var b = el("button", text, plain ? "plain" : ""); b.type = "button"; if (label) b.setAttribute("aria-label", label); b.onclick = onclick; return b; }
function row(parts) { var li = document.createElement("li"); parts.forEach(function (p) { if (p) li.append(p); }); return li; }
function emptyRow(text) { return row([el("span", text, "muted")]); }
async function settingsStart(adminPage, load) {
  me = await whoAmI(); if (!me) return;
  var admin = me.role === "owner" || me.role === "admin";
  document.querySelectorAll("[data-admin]").forEach(function (n) { n.hidden = !admin; });
  $("ws-role").textContent = "You are " + (me.role === "owner" ? "an owner" : "a" + (me.role === "admin" ? "n admin" : " member")) + " of this workspace.";
  if (adminPage && !admin) { $("ask-owner").hidden = false; return; }
  $("settings-body").hidden = false;
  load(admin);
}
`;

const frame = (current: string, heading: string, inner: string) => `<h1>Settings</h1>
${subnav(current)}
<p id="ws-role" class="muted"></p>
<h2>${heading}</h2>
<p id="ask-owner" class="msg" role="status" hidden>Only workspace owners and admins can use this page. Ask an owner of this workspace to change it for you, or to make you an admin.</p>
<div id="settings-body" hidden>${inner}</div>`;

// Anyone may make a workspace (README's roles); the page then acts in it, as a switch in the header would.
// Not a named region, and its field is "Name": the header's switcher is the one thing labelled "Workspace".
const NEW_WORKSPACE = `<section><h2 id="new-ws-title">New workspace</h2>
<p class="muted">You become its owner; invite people under Members once you are in it.</p>
<form id="new-ws-form" class="stack" novalidate><label>Name<input id="new-ws-name" maxlength="100" autocomplete="off"></label><button>Create workspace</button></form>
<p id="new-ws-status" class="msg" role="status" hidden></p></section>`;

const NEW_WORKSPACE_SCRIPT = `
$("new-ws-form").onsubmit = async function (e) {
  e.preventDefault(); var b = this.querySelector("button"); b.disabled = true; say($("new-ws-status"), "", "");
  try {
    var ws = await api("/api/v1/workspaces", { method: "POST", body: { name: $("new-ws-name").value }, labels: { name: "The workspace's name" } });
    setWs(ws.id); location.href = "/settings";
  } catch (err) { say($("new-ws-status"), "Could not create the workspace: " + err.message, "err"); b.disabled = false; $("new-ws-name").focus(); }
};
`;

/** /settings: the list of sections (members see only theirs), and a form to make a new workspace. */
export function settingsIndex(session: boolean): string {
  const items = SETTINGS_PAGES.map((p) => `<li${p.admin ? " data-admin hidden" : ""}><a href="/settings/${p.slug}">${p.label}</a></li>`).join("");
  return appDocument({
    title: "Settings",
    current: "/settings",
    session,
    body: frame("", "Sections", `<ul class="rows">${items}</ul>${NEW_WORKSPACE}`),
    script: `${SETTINGS_LIB}${NEW_WORKSPACE_SCRIPT}settingsStart(false, function () {});`,
  });
}

/** /settings/:slug, or null for a section that does not exist. */
export function settingsPage(slug: string, session: boolean): string | null {
  const p = SETTINGS_PAGES.find((x) => x.slug === slug);
  if (!p) return null;
  return appDocument({
    title: `${p.label} — Settings`,
    current: "/settings",
    session,
    body: frame(p.slug, p.label, p.body),
    script: `${SETTINGS_LIB}${p.script}\nsettingsStart(${p.admin}, load);`,
  });
}
