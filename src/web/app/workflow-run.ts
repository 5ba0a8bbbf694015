// /workflows/runs/:id: one workflow run with each step's status, input and output (collapsible), live from
// /api/events (a running skill step's text shown as the model writes it); cancel; and a suspended step's approve/reject (or resume) form generated from its resumeSchema.
import { appDocument } from "./shell";
import { SCHEMA_FORM } from "./schema-form";

const BODY = `<p><a href="/workflows">← All workflows</a></p>
<h1 id="title">Workflow run</h1>
<div class="toolbar"><span id="status-badge"></span>
<button type="button" id="cancel" hidden>Cancel run</button>
<span class="muted" id="live-note" role="status">Connecting…</span></div>
<p id="action-error" class="msg err" role="alert" hidden></p>
<dl class="facts" id="facts"></dl>
<p id="run-error" class="msg err" role="alert" hidden></p>
<section id="resume" class="resume" aria-labelledby="resume-h" hidden>
<h2 id="resume-h">Waiting for you</h2>
<pre class="block" id="resume-msg"></pre>
<form id="resume-form" class="stack wide" novalidate></form>
<p id="resume-error" class="msg err" role="alert" hidden></p>
</section>
<h2>Steps</h2>
<ol class="steps" id="steps" aria-label="Steps"></ol>`;

const SCRIPT = SCHEMA_FORM + `
var id = pathPart(3);
var def = null, run = null, formFor = "", opened = {}, streamed = {}, fetching = {};
function fact(dl, name, value) { var dt = document.createElement("dt"); dt.textContent = name; var dd = document.createElement("dd"); dd.textContent = value; dl.append(dt, dd); }
function show(v) { return typeof v === "string" ? v : JSON.stringify(v, null, 2); }
// The definition's steps as a tree (parallel and branch steps hold others), so steps show in their order.
function tree(steps) {
  return (steps || []).map(function (s) {
    return { id: s.id, kind: s.kind, children: tree(s.kind === "parallel" ? s.steps : s.kind === "branch" ? (s.then || []).concat(s["else"] || []) : []) };
  });
}
// A collapsible block that stays open across live re-renders.
function fold(key, title, text) {
  var d = document.createElement("details"); d.open = !!opened[key];
  d.ontoggle = function () { opened[key] = d.open; };
  var s = document.createElement("summary"); s.textContent = title;
  var pre = document.createElement("pre"); pre.className = "block"; pre.textContent = text;
  d.append(s, pre); return d;
}
function stepItem(node, st) {
  var li = document.createElement("li"); li.dataset.step = node.id;
  // The API lists only steps that ran: while the run goes on, one missing may still run (pending); once it has
  // ended, it never will (a branch not taken, steps after a failure or a cancel).
  var ended = run.status === "completed" || run.status === "failed" || run.status === "cancelled";
  var status = st ? st.status : ended ? "skipped" : "pending"; li.dataset.status = status;
  var head = document.createElement("div"); head.className = "step-head";
  var name = document.createElement("strong"); name.textContent = node.id;
  var kind = document.createElement("span"); kind.className = "muted"; kind.textContent = node.kind;
  var b = badge(status); if (!st && ended) b.textContent = "not run";
  head.append(b, name, kind);
  if (st && st.executionId) { var a = document.createElement("a"); a.href = "/executions/" + encodeURIComponent(st.executionId); a.textContent = "Execution of " + node.id; head.append(a); }
  li.append(head);
  if (st && st.input !== undefined) li.append(fold(node.id + ":in", "Input of " + node.id, show(st.input)));
  if (st && st.output !== undefined) li.append(fold(node.id + ":out", "Output of " + node.id, show(st.output)));
  if (st && st.status === "running" && st.executionId) {
    var so = document.createElement("pre"); so.className = "block live-out"; so.dataset.execution = st.executionId;
    so.setAttribute("aria-label", "Output of " + node.id + " so far"); so.textContent = streamed[st.executionId] || "";
    so.hidden = !so.textContent; li.append(so);
  }
  if (st && st.error) { var e = document.createElement("p"); e.className = "msg err"; e.textContent = st.error.message + (st.error.code ? " (" + st.error.code + ")" : ""); li.append(e); }
  if (node.children.length) { var ol = document.createElement("ol"); ol.className = "steps"; node.children.forEach(function (c) { ol.append(stepItem(c, run.steps[c.id])); }); li.append(ol); }
  return li;
}
// The resume form, built once per suspension so typing is not wiped by live updates. A required boolean in
// the schema (approved) becomes the Approve / Reject pair; anything else is a generated field.
function resumeForm(stepId, suspend) {
  var key = run.id + ":" + stepId; if (formFor === key) return; formFor = key;
  var form = $("resume-form"); form.replaceChildren(); say($("resume-error"), "", "");
  $("resume-msg").textContent = suspend.message || "";
  var schema = suspend.resumeSchema || {}, props = schema.properties || {}, req = schema.required || [];
  var decision = Object.keys(props).filter(function (k) { return props[k] && props[k].type === "boolean" && req.indexOf(k) >= 0; })[0];
  var buttons = document.createElement("div"); buttons.className = "toolbar";
  var yes = document.createElement("button"); yes.type = "submit"; yes.value = "yes"; yes.textContent = decision ? "Approve" : "Continue";
  buttons.append(yes);
  if (decision) { var no = document.createElement("button"); no.type = "submit"; no.value = "no"; no.className = "plain"; no.textContent = "Reject"; buttons.append(no); }
  form.append(buttons);
  var fields = schemaFields(form, schema, { skip: decision ? [decision] : [], before: buttons });
  form.onsubmit = async function (ev) {
    ev.preventDefault(); say($("resume-error"), "", "");
    var data = fields.collect(); if (!data) { say($("resume-error"), "Fix the fields marked above first.", "err"); return; }
    if (decision) data[decision] = !(ev.submitter && ev.submitter.value === "no");
    buttons.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    try { await api("/api/v1/workflows/runs/" + encodeURIComponent(run.id) + "/resume", { method: "POST", body: { step: stepId, resumeData: data } }); load(); }
    catch (e) { fields.showApiError(e); say($("resume-error"), "Could not resume: " + e.message, "err"); }
    buttons.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
  };
}
function render(r) {
  run = r;
  var name = def ? def.name || def.id : r.workflowId;
  document.title = name + " — Workflow run — Clanker"; $("title").textContent = name;
  $("status-badge").replaceChildren(badge(r.status)); $("status-badge").dataset.status = r.status;
  $("cancel").hidden = !((r.status === "running" || r.status === "suspended") && mayCancel(r));
  var dl = $("facts"); dl.replaceChildren();
  fact(dl, "Run", r.id); fact(dl, "Workflow", r.workflowId); fact(dl, "Started from", r.trigger);
  fact(dl, "Started", fmtTime(r.createdAt)); fact(dl, r.completedAt ? "Ended" : "Updated", fmtTime(r.completedAt || r.updatedAt));
  fact(dl, "Cost", r.cost + " credits"); fact(dl, "Input", show(r.input));
  if (r.error) say($("run-error"), r.error.message + (r.error.code ? " (" + r.error.code + ")" : ""), "err"); else $("run-error").hidden = true;
  var nodes = def ? tree(def.steps) : Object.keys(r.steps).map(function (k) { return { id: k, kind: r.steps[k].kind, children: [] }; });
  $("steps").replaceChildren.apply($("steps"), nodes.map(function (n) { return stepItem(n, r.steps[n.id]); }));
  Object.keys(r.steps).forEach(function (k) { var st = r.steps[k]; if (st.status === "running" && st.executionId && streamed[st.executionId] === undefined) streamStep(st.executionId); });
  var waiting = r.status === "suspended" && r.suspendedStep && r.steps[r.suspendedStep];
  $("resume").hidden = !waiting;
  if (waiting) resumeForm(r.suspendedStep, r.steps[r.suspendedStep].suspend || {}); else formFor = "";
}
var loading = null, again = false;
async function load() {
  if (loading) { again = true; return; }
  loading = (async function () {
    try { render(await api("/api/v1/workflows/runs/" + encodeURIComponent(id))); say($("page-error"), "", ""); }
    catch (e) { sayLoadError("workflow run", e); }
  })();
  await loading; loading = null;
  if (again) { again = false; load(); }
}
$("cancel").onclick = async function () {
  try { await api("/api/v1/workflows/runs/" + encodeURIComponent(id) + "/cancel", { method: "POST", body: {} }); say($("action-error"), "", ""); load(); }
  catch (e) { say($("action-error"), "Could not cancel: " + e.message, "err"); }
};
// A running skill step's text as the model writes it: its execution's blocks, read again on each of its events.
async function streamStep(executionId) {
  if (fetching[executionId]) { fetching[executionId] = "again"; return; }
  fetching[executionId] = true;
  try {
    var s = await api("/api/v1/executions/" + encodeURIComponent(executionId) + "/status");
    streamed[executionId] = s.outputBlocks.filter(function (b) { return b.type === "text"; }).map(function (b) { return b.content; }).join("");
    var pre = document.querySelector('pre.live-out[data-execution="' + executionId + '"]');
    if (pre) { pre.textContent = streamed[executionId]; pre.hidden = !pre.textContent; }
  } catch (e) { /* the step's final output arrives with the run's own state */ }
  var again = fetching[executionId] === "again"; fetching[executionId] = false;
  if (again) streamStep(executionId);
}
function stepOfExecution(executionId) {
  return run && Object.keys(run.steps).some(function (k) { return run.steps[k].executionId === executionId && run.steps[k].status === "running"; });
}
var timer = null;
whoAmI().then(async function (me) {
  if (!me) return;
  try { var r0 = await api("/api/v1/workflows/runs/" + encodeURIComponent(id));
    var list = await allDefinitions();
    def = list.filter(function (d) { return d.id === r0.workflowId; })[0] || null;
  } catch (e) { /* load() below says what failed */ }
  load();
  liveEvents(["workflow-state", "execution-state"], function (t, d) {
    if (t === "execution-state") { if (stepOfExecution(d.executionId)) streamStep(d.executionId); return; }
    if (d.runId === id || (run && d.runId === run.id)) { clearTimeout(timer); timer = setTimeout(load, 80); }
  }, load);
});
`;

export const workflowRunPage = (session: boolean) =>
  appDocument({ title: "Workflow run", current: "/workflows", body: BODY, script: SCRIPT, session });
