// /workflows: the workflow definitions, each with a launch form generated from its input schema, and the
// workspace's runs (status filter, "Load more"), updated live from /api/events.
import { appDocument } from "./shell";
import { SCHEMA_FORM } from "./schema-form";

const RUN_STATUSES = ["running", "suspended", "completed", "failed", "cancelled"];

const BODY = `<h1>Workflows</h1>
<h2 id="defs-h">Definitions</h2>
<div id="defs" class="defs"></div>
<p id="defs-empty" class="muted" hidden>No workflow definitions. Add one with POST /api/v1/workflows/definitions.</p>
<h2 id="runs-h">Runs</h2>
<div class="toolbar"><label>Run status<select id="run-status"><option value="">All</option>${RUN_STATUSES.map((s) => `<option value="${s}">${s[0]!.toUpperCase()}${s.slice(1)}</option>`).join("")}</select></label>
<span class="muted" id="live-note" role="status">Connecting…</span></div>
<ul class="rows" id="wf-runs" aria-labelledby="runs-h"></ul>
<p id="runs-empty" class="muted" hidden>No workflow runs yet. Launch one above.</p>
<p><button type="button" class="plain" id="more" hidden>Load more runs</button></p>`;

const SCRIPT = SCHEMA_FORM + `
var names = {};
function defSection(def, i) {
  var sec = document.createElement("section"); sec.className = "def"; sec.dataset.workflow = def.id;
  var h = document.createElement("h3"); h.id = "def-" + i; h.textContent = def.name || def.id; sec.setAttribute("aria-labelledby", h.id);
  var about = document.createElement("p"); about.textContent = def.description || "";
  var meta = document.createElement("p"); meta.className = "muted";
  meta.textContent = def.id + " · " + (def.source || "workspace") + " · " + (def.steps || []).length + " steps";
  var det = document.createElement("details"); var sum = document.createElement("summary"); sum.textContent = "Launch…";
  var form = document.createElement("form"); form.className = "stack"; form.noValidate = true;
  var go = document.createElement("button"); go.type = "submit"; go.textContent = "Launch";
  var err = document.createElement("p"); err.className = "msg err"; err.setAttribute("role", "alert"); err.hidden = true;
  form.append(go, err);
  var fields = schemaFields(form, def.input, { before: go });
  if (!def.input || !Object.keys(def.input.properties || {}).length) { var none = document.createElement("p"); none.className = "muted"; none.textContent = "This workflow takes no input."; form.insertBefore(none, go); }
  form.onsubmit = async function (ev) {
    ev.preventDefault(); say(err, "", "");
    var data = fields.collect(); if (!data) { say(err, "Fix the fields marked above, then launch again.", "err"); return; }
    go.disabled = true;
    try {
      var run = await api("/api/v1/workflows/" + encodeURIComponent(def.id) + "/launch", { method: "POST", body: { inputData: data, interface: "web" } });
      location.href = "/workflows/runs/" + encodeURIComponent(run.id);
    } catch (e) {
      fields.showApiError(e);
      say(err, "Could not launch: " + e.message, "err"); go.disabled = false;
    }
  };
  det.append(sum, form);
  sec.append(h, about, meta, det);
  if (!def.description) about.remove();
  return sec;
}
async function loadDefs() {
  try {
    var list = await allDefinitions();
    var box = $("defs"); box.replaceChildren();
    list.forEach(function (d, i) { names[d.id] = d.name || d.id; box.append(defSection(d, i)); });
    $("defs-empty").hidden = list.length > 0;
  } catch (e) { say($("page-error"), "Could not load the workflow definitions: " + e.message, "err"); }
}
var filter = $("run-status");
filter.value = new URLSearchParams(location.search).get("status") || "";
var pages = 1, loading = null, again = false;
function runRow(r) {
  var li = document.createElement("li"); li.dataset.id = r.id; li.dataset.status = r.status;
  var main = document.createElement("span"); main.className = "grow";
  var a = document.createElement("a"); a.href = "/workflows/runs/" + encodeURIComponent(r.id); a.textContent = names[r.workflowId] || r.workflowId; main.append(a);
  var meta = document.createElement("span"); meta.className = "muted";
  meta.textContent = fmtTime(r.createdAt) + " · " + r.trigger + (r.suspendedStep ? " · waiting at " + r.suspendedStep : "") + (r.cost ? " · " + r.cost + " credits" : "");
  li.append(badge(r.status), main, meta);
  return li;
}
// Reloads as many pages as are shown, following the cursor, so "Load more" survives live updates.
async function loadRuns() {
  if (loading) { again = true; return; }
  loading = (async function () {
    try {
      var rows = [], after = null, more = false;
      for (var i = 0; i < pages; i++) {
        var q = "/api/v1/workflows/runs?limit=50" + (filter.value ? "&status=" + filter.value : "") + (after ? "&after_id=" + encodeURIComponent(after) : "");
        var page = await api(q);
        rows = rows.concat(page.data); more = page.has_more; after = page.last_id;
        if (!more) break;
      }
      $("wf-runs").replaceChildren.apply($("wf-runs"), rows.map(runRow));
      $("runs-empty").hidden = rows.length > 0; $("more").hidden = !more;
      say($("page-error"), "", "");
    } catch (e) { say($("page-error"), "Could not load workflow runs: " + e.message, "err"); }
  })();
  await loading; loading = null;
  if (again) { again = false; loadRuns(); }
}
filter.onchange = function () {
  var u = new URL(location.href); if (filter.value) u.searchParams.set("status", filter.value); else u.searchParams.delete("status");
  history.replaceState(null, "", u); pages = 1; loadRuns();
};
$("more").onclick = function () { pages++; loadRuns(); };
var timer = null;
whoAmI().then(async function (me) {
  if (!me) return;
  await loadDefs();
  loadRuns();
  liveEvents(["workflow-state"], function () { clearTimeout(timer); timer = setTimeout(loadRuns, 150); }, loadRuns);
});
`;

export const workflowsPage = (session: boolean) => appDocument({ title: "Workflows", current: "/workflows", body: BODY, script: SCRIPT, session });
