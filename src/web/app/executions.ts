// /executions (history with status and skill filters, paged by cursor, live) and /executions/:id (one run: facts, output rendered as Markdown, cancel, rerun).
import { appDocument } from "./shell";
import { MARKDOWN_SCRIPT } from "./markdown";

const STATUSES = ["queued", "running", "completed", "failed", "cancelled"];

const LIST_BODY = `<h1>Executions</h1>
<div class="toolbar"><label>Status<select id="status-filter"><option value="">All</option>${STATUSES.map((s) => `<option value="${s}">${s[0]!.toUpperCase()}${s.slice(1)}</option>`).join("")}</select></label>
<label>Skill<select id="skill-filter"><option value="">All skills</option></select></label>
<span class="muted" id="live-note" role="status">Connecting…</span></div>
<ul class="rows" id="runs" aria-label="Executions"></ul>
<p id="empty" class="muted" hidden>No executions yet. Run a skill over the API, MCP or the CLI and it appears here.</p>
<p><button type="button" class="plain" id="more" hidden>Load more</button></p>`;

// Shared by both pages: a status badge built with DOM calls (text from the API never becomes markup).
const BADGE = `
function badge(status) { var b = document.createElement("span"); b.className = "badge " + status; b.textContent = status; return b; }
`;

const LIST_SCRIPT = BADGE + `
var filter = $("status-filter"), skill = $("skill-filter");
var params = new URLSearchParams(location.search);
filter.value = params.get("status") || "";
function skillOption(slug, name) { var o = document.createElement("option"); o.value = slug; o.textContent = name; skill.append(o); }
// A skill named in the URL is selectable before (or without) the catalog answering.
if (params.get("skill")) { skillOption(params.get("skill"), params.get("skill")); skill.value = params.get("skill"); }
async function loadSkills() {
  try {
    var after = null, list = [];
    do {
      var page = await api("/api/v1/marketplace/skills?limit=100" + (after ? "&after_id=" + encodeURIComponent(after) : ""));
      list = list.concat(page.data); after = page.has_more ? page.last_id : null;
    } while (after);
    var chosen = skill.value;
    skill.replaceChildren(); skillOption("", "All skills");
    list.sort(function (a, b) { return a.name.localeCompare(b.name); }).forEach(function (k) { skillOption(k.slug, k.name); });
    if (chosen && !list.some(function (k) { return k.slug === chosen; })) skillOption(chosen, chosen);
    skill.value = chosen;
  } catch (err) { say($("page-error"), "Could not load the skill list for the filter: " + err.message, "err"); }
}
// How many pages of 50 are shown: "Load more" adds one, and a live reload refetches as many, by cursor.
var pages = 1, loading = null, again = false;
async function load() {
  if (loading) { again = true; return; }
  loading = (async function () {
    try {
      var rows = [], after = null, more = false;
      for (var i = 0; i < pages; i++) {
        var q = "/api/v1/executions?limit=50" + (filter.value ? "&status=" + filter.value : "") + (skill.value ? "&skill=" + encodeURIComponent(skill.value) : "") + (after ? "&after_id=" + encodeURIComponent(after) : "");
        var page = await api(q);
        rows = rows.concat(page.data); more = page.has_more; after = page.last_id;
        if (!more) break;
      }
      var ul = $("runs"); ul.replaceChildren();
      $("more").hidden = !more;
      rows.forEach(function (e) {
        var li = document.createElement("li"); li.dataset.id = e.id; li.dataset.status = e.status;
        var main = document.createElement("span"); main.className = "grow";
        var a = document.createElement("a"); a.href = "/executions/" + e.id; a.textContent = e.skillName || e.skillSlug; main.append(a);
        var meta = document.createElement("span"); meta.className = "muted";
        meta.textContent = fmtTime(e.createdAt) + " · " + e.interface + " · " + fmtMs(e.executionTime) + (e.cost ? " · " + e.cost + " credits" : "");
        li.append(badge(e.status), main, meta); ul.append(li);
      });
      $("empty").hidden = rows.length > 0;
      $("empty").textContent = filter.value || skill.value ? "No execution matches these filters." : "No executions yet. Run a skill over the API, MCP or the CLI and it appears here.";
      say($("page-error"), "", "");
    } catch (err) { say($("page-error"), "Could not load executions: " + err.message, "err"); }
  })();
  await loading; loading = null;
  if (again) { again = false; load(); }
}
filter.onchange = skill.onchange = function () {
  var u = new URL(location.href);
  [["status", filter.value], ["skill", skill.value]].forEach(function (p) { if (p[1]) u.searchParams.set(p[0], p[1]); else u.searchParams.delete(p[0]); });
  history.replaceState(null, "", u); pages = 1; load();
};
$("more").onclick = function () { pages++; load(); };
var timer = null;
whoAmI().then(function (me) {
  if (!me) return;
  load(); loadSkills();
  liveEvents(["execution-state"], function () { clearTimeout(timer); timer = setTimeout(load, 150); }, load);
});
`;

const DETAIL_BODY = `${MARKDOWN_SCRIPT}<p><a href="/executions">← All executions</a></p>
<h1 id="title">Execution</h1>
<div class="toolbar"><span id="status-badge" role="status"></span>
<button type="button" id="cancel" hidden>Cancel</button>
<button type="button" id="rerun" hidden>Run again</button></div>
<p id="action-error" class="msg err" role="alert" hidden></p>
<dl class="facts" id="facts"></dl>
<p id="run-error" class="msg err" role="alert" hidden></p>
<h2>Output</h2>
<div id="output"></div>
<p id="no-output" class="muted" hidden>No output yet.</p>`;

const DETAIL_SCRIPT = BADGE + `
var id = pathPart(2);
function fact(dl, name, value) { var dt = document.createElement("dt"); dt.textContent = name; var dd = document.createElement("dd"); dd.textContent = value; dl.append(dt, dd); }
function render(s) {
  document.title = (s.skillName || s.skillSlug) + " — Execution — Clanker";
  $("title").textContent = s.skillName || s.skillSlug;
  // The status is what a screen reader hears change (role=status), once per change; the output is not read out again
  // each time it grows (it was rebuilt, and so announced whole, at every update).
  if ($("status-badge").dataset.status !== s.status) { $("status-badge").replaceChildren(badge(s.status)); $("status-badge").dataset.status = s.status; }
  var active = s.status === "queued" || s.status === "running";
  $("output").setAttribute("aria-busy", String(active));
  $("cancel").hidden = !(active && mayCancel(s)); $("rerun").hidden = active;
  var dl = $("facts"); dl.replaceChildren();
  fact(dl, "Id", s.id); fact(dl, "Skill", s.skillSlug); fact(dl, "Started from", s.interface);
  fact(dl, "Created", fmtTime(s.createdAt)); fact(dl, "Duration", fmtMs(s.executionTime));
  fact(dl, "Tokens", s.usage.inputTokens + " in · " + s.usage.outputTokens + " out");
  fact(dl, "Cost", s.cost + " credits"); fact(dl, "Model", (s.provider || "—") + (s.model ? " · " + s.model : ""));
  if (s.rerunOf) fact(dl, "Rerun of", s.rerunOf);
  var ended = stoppedNote(s.stopReason); if (ended) fact(dl, "Ended", ended);
  fact(dl, "Input", s.input);
  if (s.error) say($("run-error"), s.error.message + (s.error.code ? " (" + s.error.code + ")" : ""), "err"); else $("run-error").hidden = true;
  var out = $("output"); out.replaceChildren();
  // Blocks are the text as it was flushed while streaming: consecutive blocks of one type read as one.
  // The model's text is Markdown (rendered and sanitized by markdown.ts); any other kind of block stays verbatim.
  var runs = [];
  s.outputBlocks.forEach(function (b) {
    var lastRun = runs[runs.length - 1];
    if (lastRun && lastRun.type === b.type) lastRun.text += b.content; else runs.push({ type: b.type, text: b.content });
  });
  runs.forEach(function (r) {
    var el;
    if (r.type === "text") { el = document.createElement("div"); el.className = "md"; markdown.render(el, r.text, 2); }
    else { el = document.createElement("pre"); el.className = "block"; el.textContent = r.text; }
    el.dataset.type = r.type; out.append(el);
  });
  $("no-output").hidden = s.outputBlocks.length > 0;
}
var loading = null, again = false;
async function load() {
  if (loading) { again = true; return; }
  loading = (async function () {
    try { render(await api("/api/v1/executions/" + encodeURIComponent(id) + "/status")); say($("page-error"), "", ""); }
    catch (err) { sayLoadError("execution", err); }
  })();
  await loading; loading = null;
  if (again) { again = false; load(); }
}
$("cancel").onclick = async function () {
  try { await api("/api/v1/executions/" + encodeURIComponent(id) + "/cancel", { method: "POST", body: {} }); say($("action-error"), "", ""); load(); }
  catch (err) { say($("action-error"), "Could not cancel: " + err.message, "err"); }
};
$("rerun").onclick = async function () {
  try { var r = await api("/api/v1/executions/" + encodeURIComponent(id) + "/rerun", { method: "POST", body: { interface: "web" } }); location.href = "/executions/" + r.executionId; }
  catch (err) { say($("action-error"), "Could not run it again: " + err.message, "err"); }
};
var timer = null;
whoAmI().then(function (me) {
  if (!me) return;
  load();
  liveEvents(["execution-state"], function (t, ev) { if (ev.executionId === id) { clearTimeout(timer); timer = setTimeout(load, 100); } }, load);
});
`;

export const executionsPage = (session: boolean) =>
  appDocument({ title: "Executions", current: "/executions", body: LIST_BODY, script: LIST_SCRIPT, session });
export const executionPage = (session: boolean) =>
  appDocument({ title: "Execution", current: "/executions", body: DETAIL_BODY, script: DETAIL_SCRIPT, session });
