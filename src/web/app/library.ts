// /library (and /skills): the skill catalog, searchable and filtered by category, with each skill's installed
// state in this workspace and Install / Uninstall on every row.
import { appDocument } from "./shell";

const BODY = `<h1>Library</h1>
<p class="muted">The skills this server can run. Open one to read its instructions and run it; install the ones your workspace uses.</p>
<p class="muted" id="members-note" hidden>An owner or admin of this workspace installs and uninstalls skills; you can run any of them.</p>
<form id="filters" class="toolbar" role="search" aria-label="Skills">
<label>Search skills<input type="search" id="q" name="q" autocomplete="off"></label>
<div class="field"><label for="category">Category</label><select id="category" name="category"><option value="">All categories</option></select></div>
<button id="search">Search</button>
</form>
<p id="count" class="muted" role="status"></p>
<ul class="rows" id="skills" aria-label="Skills"></ul>
<p id="empty" class="muted" hidden>No skill matches. Try fewer words or another category.</p>
<button type="button" class="plain" id="more" hidden>Show more</button>`;

// Installed state is one set of slugs read once (all pages of /api/v1/skills) and kept current by the
// answers of install/uninstall.
const SCRIPT = `
var installed = {}, after = null, seq = 0, shown = 0;
var params = new URLSearchParams(location.search);
$("q").value = params.get("q") || "";
async function loadInstalled() {
  var cursor = null;
  do {
    var page = await api("/api/v1/skills?limit=100" + (cursor ? "&after_id=" + encodeURIComponent(cursor) : ""));
    page.data.forEach(function (s) { if (s.installed) installed[s.slug] = true; });
    cursor = page.has_more ? page.last_id : null;
  } while (cursor);
}
async function loadCategories() {
  var res = await api("/api/v1/marketplace/skills/categories");
  var sel = $("category");
  res.data.forEach(function (c) { var o = document.createElement("option"); o.value = c.id; o.textContent = c.name + " (" + c.count + ")"; sel.append(o); });
  sel.value = params.get("category") || "";
}
// Owners and admins install and uninstall; a member is shown the state only (the API would refuse them).
var manages = false;
function setButton(button, s) {
  var on = !!installed[s.slug];
  button.textContent = on ? "Uninstall" : "Install";
  button.className = on ? "plain" : "";
  button.setAttribute("aria-label", (on ? "Uninstall " : "Install ") + s.name);
  button.hidden = !manages;
  button.closest("li").querySelector(".state").textContent = on ? "Installed" : manages ? "" : "Not installed";
}
function row(s) {
  var li = document.createElement("li"); li.dataset.slug = s.slug;
  var main = document.createElement("span"); main.className = "grow";
  var a = document.createElement("a"); a.href = "/skills/" + encodeURIComponent(s.slug); a.textContent = s.name;
  var d = document.createElement("span"); d.className = "muted desc"; d.textContent = s.description;
  main.append(a, d);
  var cat = document.createElement("span"); cat.className = "badge"; cat.textContent = s.category;
  var state = document.createElement("span"); state.className = "state";
  var b = document.createElement("button"); b.type = "button";
  var err = document.createElement("span"); err.className = "msg err"; err.setAttribute("role", "alert"); err.hidden = true;
  li.append(main, cat, state, b, err);
  setButton(b, s);
  b.onclick = async function () {
    var on = !!installed[s.slug]; b.disabled = true; say(err, "", "");
    try {
      var r = await api("/api/v1/skills/" + encodeURIComponent(s.slug) + (on ? "/uninstall" : "/install"), { method: "POST", body: {} });
      if (r.installed) installed[s.slug] = true; else delete installed[s.slug];
      setButton(b, s);
    } catch (e) { say(err, "Could not " + (on ? "uninstall " : "install ") + s.name + ": " + e.message, "err"); }
    finally { b.disabled = false; }
  };
  return li;
}
async function load(reset) {
  var mine = ++seq;
  if (reset) { after = null; shown = 0; }
  var q = new URLSearchParams({ limit: "50" });
  if ($("q").value.trim()) q.set("q", $("q").value.trim());
  if ($("category").value) q.set("category", $("category").value);
  if (after) q.set("after_id", after);
  try {
    var page = await api("/api/v1/marketplace/skills?" + q);
    if (mine !== seq) return;
    var ul = $("skills"); if (reset) ul.replaceChildren();
    page.data.forEach(function (s) { ul.append(row(s)); });
    shown += page.data.length;
    after = page.last_id; $("more").hidden = !page.has_more;
    $("empty").hidden = shown > 0;
    $("count").textContent = shown + (page.has_more ? "+" : "") + (shown === 1 ? " skill" : " skills");
    say($("page-error"), "", "");
  } catch (e) { say($("page-error"), "Could not load the library: " + e.message, "err"); }
}
function apply() {
  var u = new URL(location.href);
  ["q", "category"].forEach(function (k) { var v = $(k).value.trim(); if (v) u.searchParams.set(k, v); else u.searchParams.delete(k); });
  history.replaceState(null, "", u); load(true);
}
var typing = null;
$("filters").onsubmit = function (e) { e.preventDefault(); apply(); };
$("q").oninput = function () { clearTimeout(typing); typing = setTimeout(apply, 250); };
$("category").onchange = apply;
$("more").onclick = function () { load(false); };
whoAmI().then(async function (me) {
  if (!me) return;
  manages = me.role !== "member";
  if (!manages) $("members-note").hidden = false;
  try { await Promise.all([loadInstalled(), loadCategories()]); }
  catch (e) { say($("page-error"), "Could not load the library: " + e.message, "err"); }
  load(true);
});
`;

export const libraryPage = (session: boolean) => appDocument({ title: "Library", current: "/library", body: BODY, script: SCRIPT, session });
