// /skills/:slug: one skill — its instructions as sanitized Markdown, install/uninstall, and a run form (fields
// from its parameters, attachments by file input or drop, an optional connector) whose output streams in.
import { appDocument } from "./shell";
import { MARKDOWN_SCRIPT } from "./markdown";

const BODY = `${MARKDOWN_SCRIPT}<p><a href="/library">← Library</a></p>
<h1 id="title">Skill</h1>
<p id="description"></p>
<div class="toolbar"><span id="category" class="badge" hidden></span><span id="installed-state" role="status"></span>
<button type="button" id="install" hidden>Install</button></div>
<p id="install-error" class="msg err" role="alert" hidden></p>
<section aria-labelledby="run-title"><h2 id="run-title">Run it</h2>
<p id="earlier-run" class="msg" role="status" hidden>A run you started from this page is still going: <a id="earlier-run-link">open it</a> to follow or cancel it.</p>
<form id="run-form" class="stack wide" novalidate>
<div id="fields" class="stack"></div>
<div id="drop" class="drop">
<label>Attachments (optional)<input type="file" id="files" multiple></label>
<p class="muted">Or drop files here. Text, JSON, CSV, images (PNG, JPEG, GIF, WebP) and PDF.</p>
<ul id="file-list" class="files" aria-label="Attached files"></ul></div>
<div id="connector-box" hidden>
<div class="field"><label for="connector">Connector (optional)</label><select id="connector"><option value="">None</option></select></div>
<div class="field" id="source-label" hidden><label for="source">Source</label><select id="source"></select></div></div>
<div class="toolbar"><button id="run">Run</button></div>
</form>
<p id="run-error" class="msg err" role="alert" hidden></p>
<section id="result" aria-labelledby="result-title" hidden>
<h3 id="result-title">Output</h3>
<div class="toolbar"><span id="run-status" class="muted" role="status"></span>
<button type="button" id="cancel-run" class="plain" hidden>Cancel run</button></div>
<div id="output" class="md"></div>
<dl class="facts" id="run-facts"></dl>
<p><a id="execution-link" hidden>Open this execution</a></p>
</section></section>
<section aria-labelledby="instructions-title"><h2 id="instructions-title">Instructions</h2>
<div id="instructions" class="md"></div></section>`;

const FORM = `
var slug = pathPart(2);
var skill = null, installed = false, attachments = [];
function call(method, path, body) { return api(path, { method: method, body: body }); }
function human(name) { var s = name.replace(/[_-]+/g, " "); return s.charAt(0).toUpperCase() + s.slice(1); }
function field(p, i) {
  var input;
  if (p.type === "enum" && Array.isArray(p.values)) {
    input = document.createElement("select");
    // A required choice with no default starts on "Choose…": the person makes it (a consent, say), the form does not.
    var hasDefault = p.default !== undefined && p.default !== null;
    if (!p.required || !hasDefault) { var none = document.createElement("option"); none.value = ""; none.textContent = p.required ? "Choose…" : "—"; input.append(none); }
    p.values.forEach(function (v) { var o = document.createElement("option"); o.value = String(v); o.textContent = String(v); input.append(o); });
  } else if (p.type === "boolean") {
    input = document.createElement("input"); input.type = "checkbox"; input.className = "check";
  } else if (p.type === "number" || p.type === "integer") {
    input = document.createElement("input"); input.type = "number"; input.step = p.type === "integer" ? "1" : "any";
  } else { input = document.createElement("textarea"); input.rows = 3; }
  input.dataset.name = p.name; input.dataset.required = p.required ? "1" : "";
  if (p.default !== undefined && p.default !== null) { if (input.type === "checkbox") input.checked = !!p.default; else input.value = String(p.default); }
  input.id = "param-" + i;
  return labelled(human(p.name) + (p.required ? " (required)" : " (optional)"), input, p.description);
}
// A control labelled by for= as the workflow launch form lays its fields out (schema-form.ts): the label on top, the
// control full width below (a checkbox before its label). Not by wrapping: a wrapping label would sit beside its
// control, and would name a select with all its options' text.
function labelled(text, input, hintText) {
  var wrap = document.createElement("div"); wrap.className = "field" + (input.type === "checkbox" ? " check" : "");
  var label = document.createElement("label"); label.htmlFor = input.id; label.textContent = text;
  if (input.type === "checkbox") wrap.append(input, label); else wrap.append(label, input);
  // The description stays outside the label (it describes the field, it does not name it).
  if (hintText) { var hint = document.createElement("span"); hint.className = "muted hint"; hint.id = input.id + "-hint"; hint.textContent = hintText; wrap.append(hint); input.setAttribute("aria-describedby", hint.id); }
  return wrap;
}
function buildFields() {
  var box = $("fields"); box.replaceChildren();
  if (!skill.parameters.length) {
    var ta = document.createElement("textarea"); ta.id = "input"; ta.rows = 6; ta.dataset.required = "1"; box.append(labelled("Input", ta)); return;
  }
  skill.parameters.forEach(function (p, i) { box.append(field(p, i)); });
}
// Parameters become "name: value" lines of the run's input, the form the skills' instructions read.
function inputText() {
  var plain = $("input"); if (plain) return plain.value.trim() ? { text: plain.value } : { missing: plain };
  var lines = [], missing = null;
  $("fields").querySelectorAll("[data-name]").forEach(function (el) {
    var v = el.type === "checkbox" ? (el.checked ? "true" : "false") : el.value.trim();
    if (!v) { if (el.dataset.required && !missing) missing = el; return; }
    lines.push(el.dataset.name + ": " + v);
  });
  return missing ? { missing: missing } : { text: lines.join("\\n") };
}
var TEXT = /^(text\\/|application\\/(json|xml|yaml|x-yaml|csv|javascript|typescript|sql|x-sh))/;
function guessType(f) {
  if (f.type) return f.type;
  var ext = (f.name.split(".").pop() || "").toLowerCase();
  return { md: "text/markdown", csv: "text/csv", json: "application/json", pdf: "application/pdf", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg" }[ext] || "text/plain";
}
function readFile(f) {
  var type = guessType(f);
  if (TEXT.test(type)) return f.text().then(function (t) { return { name: f.name, mediaType: type, content: t }; });
  return new Promise(function (resolve, reject) {
    var r = new FileReader();
    r.onload = function () { resolve({ name: f.name, mediaType: type, data: String(r.result).split(",")[1] || "" }); };
    r.onerror = function () { reject(new Error("Could not read " + f.name)); };
    r.readAsDataURL(f);
  });
}
function showFiles() {
  var ul = $("file-list"); ul.replaceChildren();
  attachments.forEach(function (a, i) {
    var li = document.createElement("li"); li.textContent = a.name + " (" + a.mediaType + ") ";
    var b = document.createElement("button"); b.type = "button"; b.className = "plain"; b.textContent = "Remove"; b.setAttribute("aria-label", "Remove " + a.name);
    b.onclick = function () { attachments.splice(i, 1); showFiles(); };
    li.append(b); ul.append(li);
  });
}
async function addFiles(list) {
  try { var read = await Promise.all(Array.prototype.map.call(list, readFile)); attachments = attachments.concat(read).slice(0, 10); showFiles(); }
  catch (e) { say($("run-error"), e.message, "err"); }
}
$("files").onchange = function () { addFiles($("files").files); $("files").value = ""; };
var drop = $("drop");
drop.addEventListener("dragover", function (e) { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
drop.addEventListener("drop", function (e) { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer && e.dataTransfer.files.length) addFiles(e.dataTransfer.files); });
// Connectors the workspace can use now (configured, and connected where that is needed); none: no field.
async function loadConnectors() {
  var res = await call("GET", "/api/v1/connectors");
  var usable = res.data.filter(function (c) { return c.configured && (c.connected || !c.needsConnection); });
  usable.forEach(function (c) { var o = document.createElement("option"); o.value = c.connector; o.textContent = c.name; $("connector").append(o); });
  $("connector-box").hidden = usable.length === 0;
}
$("connector").onchange = async function () {
  var c = $("connector").value, src = $("source"); src.replaceChildren(); $("source-label").hidden = !c;
  if (!c) return;
  try {
    var res = await call("GET", "/api/v1/connectors/" + encodeURIComponent(c) + "/sources?limit=100");
    res.data.forEach(function (s) { var o = document.createElement("option"); o.value = s.id; o.textContent = s.name; src.append(o); });
    if (!res.data.length) say($("run-error"), "The " + c + " connector has no sources yet: add one in Settings.", "err");
  } catch (e) { say($("run-error"), "Could not list the " + c + " connector's sources: " + e.message, "err"); }
};
`;

// The run: /api/events is open before the POST, so no block is missed; events that arrive before the POST
// answers (the run id still unknown) are held and replayed. Blocks are keyed by index (an event can repeat
// after a reconnect). A slow status poll covers a dropped stream; the end always reads the status once for
// the authoritative output, cost and tokens.
const RUN = `
var run = null;
// The run this tab started here, kept for a reload (which forgets the page's state): see earlierRun.
var RUN_KEY = "clanker-skill-run:" + slug;
function remember(id) { try { if (id) sessionStorage.setItem(RUN_KEY, id); else sessionStorage.removeItem(RUN_KEY); } catch (e) { /* storage off: nothing to offer after a reload */ } }
function describe(e) {
  if (e.status === 402) return "Not enough credits to run this skill: " + e.message + " Add credits or set your own model key in Settings.";
  if (e.status === 400) return "The run was refused: " + e.message + (e.param ? " (" + e.param + ")" : "");
  if (e.status === 404) return "This skill is not in the catalog (any more): " + e.message;
  if (e.status === 401) return e.message;
  return "Could not run it: " + e.message;
}
function fact(dl, name, value, href) {
  var dt = document.createElement("dt"); dt.textContent = name; var dd = document.createElement("dd");
  if (href) { var a = document.createElement("a"); a.href = href; a.textContent = value; dd.append(a); } else dd.textContent = value;
  dl.append(dt, dd);
}
/** The run's stream, once connected (or after 3 s: the status poll covers a stream that never connects). */
function openEvents(onEvent) {
  return new Promise(function (resolve) {
    var done = false, stream = null;
    var ready = function () { if (!done) { done = true; resolve(stream); } };
    stream = liveEvents(["execution-state"], function (t, ev) { onEvent(ev); }, ready);
    setTimeout(ready, 3000);
  });
}
function paint() {
  if (run.frame) return;
  run.frame = requestAnimationFrame(function () {
    run.frame = 0;
    var text = Object.keys(run.blocks).map(Number).sort(function (a, b) { return a - b; }).map(function (k) { return run.blocks[k]; }).join("");
    markdown.render($("output"), text, 3); $("output").dataset.chars = String(text.length);
  });
}
function onEvent(ev) {
  if (!run || ev.executionId !== run.id) return;
  (ev.blocks || []).forEach(function (b) { if (b.type === "text" && !(b.index in run.blocks)) { run.blocks[b.index] = b.content; paint(); } });
  if (ev.status) { $("run-status").textContent = ev.status === "running" ? "Running: the output appears as the model writes it…" : ev.status === "queued" ? "Queued…" : ""; $("result").dataset.status = ev.status; }
  if (ev.status === "completed" || ev.status === "failed" || ev.status === "cancelled") finish();
}
async function finish() {
  if (!run || run.ended) return;
  run.ended = true; clearInterval(run.poll); run.es.close(); remember(null); $("cancel-run").hidden = true;
  try {
    var s = await call("GET", "/api/v1/executions/" + encodeURIComponent(run.id) + "/status");
    run.blocks = {}; s.outputBlocks.forEach(function (b) { if (b.type === "text") run.blocks[b.index] = b.content; }); paint();
    $("result").dataset.status = s.status; $("output").setAttribute("aria-busy", "false");
    $("run-status").textContent = s.status === "completed" ? "Completed." : s.status === "cancelled" ? "Cancelled." : "Failed: " + (s.error ? s.error.message : "unknown error");
    if (s.status === "failed") say($("run-error"), "The run failed: " + (s.error ? s.error.message + " (" + s.error.code + ")" : "unknown error"), "err");
    var dl = $("run-facts"); dl.replaceChildren();
    fact(dl, "Cost", s.cost + " credits"); fact(dl, "Tokens", s.usage.inputTokens + " in · " + s.usage.outputTokens + " out");
    fact(dl, "Duration", fmtMs(s.executionTime));
    var ended = stoppedNote(s.stopReason); if (ended) fact(dl, "Ended", ended);
    // Named by their files (one read each; a run has few), in the order the run wrote them.
    var named = await Promise.all(s.artifactIds.map(function (id) { return call("GET", "/api/v1/artifacts/" + encodeURIComponent(id)).then(function (a) { return a.name; }, function () { return id; }); }));
    s.artifactIds.forEach(function (id, i) { fact(dl, i ? "" : "Artifacts", named[i], "/artifacts/" + id); });
  } catch (e) { say($("run-error"), "The run ended, but reading its result failed: " + e.message, "err"); }
  $("run").disabled = false;
}
// The end arrives as the run's cancelled event (or the status poll), which finish() handles like any other end.
$("cancel-run").onclick = async function () {
  if (!run || run.ended || !run.id) return;
  var b = $("cancel-run"); b.disabled = true;
  try { await call("POST", "/api/v1/executions/" + encodeURIComponent(run.id) + "/cancel", {}); }
  catch (e) { say($("run-error"), "Could not cancel the run: " + e.message, "err"); }
  b.disabled = false;
};
$("run-form").onsubmit = async function (e) {
  e.preventDefault(); say($("run-error"), "", "");
  var input = inputText();
  if (input.missing) {
    var named = document.querySelector('label[for="' + input.missing.id + '"]');
    say($("run-error"), "Fill in " + named.textContent + " first.", "err"); input.missing.focus(); return;
  }
  if (run && !run.ended) return;
  $("run").disabled = true;
  var body = { input: input.text, interface: "web" };
  if (attachments.length) body.attachments = attachments;
  if ($("connector").value) {
    var c = $("connector").value, fields = {};
    if (!$("source").value) { say($("run-error"), "Choose a source for the " + c + " connector, or no connector.", "err"); $("run").disabled = false; return; }
    fields[c === "github" ? "repo" : "source"] = $("source").value;
    body.connector = { type: c, fields: fields };
  }
  var held = [], fresh = { id: null, blocks: {}, es: null, frame: 0, ended: false };
  // Events that come before the run has its id wait for it (the stream is open before the run starts).
  fresh.es = await openEvents(function (ev) { if (fresh.id) onEvent(ev); else held.push(ev); });
  run = fresh;
  try {
    var started = await call("POST", "/api/v1/skills/" + encodeURIComponent(slug) + "/run", body);
    run.id = started.executionId;
    $("result").hidden = false; $("output").replaceChildren(); $("output").setAttribute("aria-busy", "true"); $("run-facts").replaceChildren();
    $("run-status").textContent = "Started…"; $("result").dataset.status = "started";
    var link = $("execution-link"); link.href = "/executions/" + run.id; link.hidden = false;
    remember(run.id); $("earlier-run").hidden = true; $("cancel-run").hidden = false;
    held.forEach(onEvent);
    // The status check covers a dropped stream; when it fails too (session ended, server gone), say so instead of
    // "Running…" forever: a 401 goes to sign-in, anything else is shown after three misses in a row.
    run.misses = 0;
    run.poll = setInterval(async function () {
      try { var s = await call("GET", "/api/v1/executions/" + encodeURIComponent(run.id) + "/status?blocksAfter=1000000000"); run.misses = 0; $("run-error").hidden = true; onEvent({ executionId: run.id, status: s.status, blocks: [] }); }
      catch (x) {
        if (x.status === 401) return toLogin();
        if (++run.misses >= 3) say($("run-error"), "Lost touch with the run (" + x.message + "): it may still be going; see its execution page.", "err");
      }
    }, 2000);
  } catch (err) {
    // Refused: this submit started nothing, so a result still shown is an earlier run's; it goes, the reason stays.
    fresh.es.close(); run = null; $("result").hidden = true;
    say($("run-error"), describe(err), "err"); $("run").disabled = false;
  }
};
`;

const PAGE = `
// Owners and admins install and uninstall; a member is told who can (the API would refuse them).
var manages = false;
function showInstalled() {
  $("installed-state").textContent = (installed ? "Installed in this workspace" : "Not installed") + (manages ? "" : " (an owner or admin installs skills)");
  var b = $("install"); b.textContent = installed ? "Uninstall" : "Install"; b.className = installed ? "plain" : ""; b.hidden = !manages;
}
$("install").onclick = async function () {
  var b = $("install"); b.disabled = true; say($("install-error"), "", "");
  try { var r = await call("POST", "/api/v1/skills/" + encodeURIComponent(slug) + (installed ? "/uninstall" : "/install"), {}); installed = !!r.installed; showInstalled(); }
  catch (e) { say($("install-error"), "Could not " + (installed ? "uninstall" : "install") + " it: " + e.message, "err"); }
  finally { b.disabled = false; }
};
async function isInstalled() {
  var cursor = null;
  do {
    var page = await call("GET", "/api/v1/skills?limit=100" + (cursor ? "&after_id=" + encodeURIComponent(cursor) : ""));
    if (page.data.some(function (s) { return s.slug === slug && s.installed; })) return true;
    cursor = page.has_more ? page.last_id : null;
  } while (cursor);
  return false;
}
// After a reload, the run this tab started here (if it still runs) is one click away: its page follows and cancels it.
async function earlierRun() {
  var id = null; try { id = sessionStorage.getItem(RUN_KEY); } catch (e) { return; }
  if (!id || run) return;
  try {
    var s = await call("GET", "/api/v1/executions/" + encodeURIComponent(id) + "/status?blocksAfter=1000000000");
    if (s.status !== "running" && s.status !== "queued") { remember(null); return; }
    if (run) return; // a new run was started meanwhile
    $("earlier-run-link").href = "/executions/" + encodeURIComponent(id); $("earlier-run").hidden = false;
  } catch (e) { remember(null); }
}
async function load() {
  try { skill = await call("GET", "/api/v1/marketplace/skills/" + encodeURIComponent(slug)); }
  catch (e) { say($("page-error"), e.status === 404 ? "There is no skill called " + slug + " in the catalog." : "Could not load this skill: " + e.message, "err"); $("run-form").hidden = true; return; }
  document.title = skill.name + " — Library — Clanker"; $("title").textContent = skill.name; $("description").textContent = skill.description;
  $("category").textContent = skill.category; $("category").hidden = false;
  markdown.render($("instructions"), skill.instructions, 2);
  buildFields(); earlierRun();
  try { installed = await isInstalled(); showInstalled(); } catch (e) { say($("install-error"), "Could not read whether it is installed: " + e.message, "err"); }
  try { await loadConnectors(); } catch (e) { say($("run-error"), "Could not list connectors: " + e.message, "err"); }
}
whoAmI().then(function (me) { if (me) { manages = me.role !== "member"; load(); } });
`;

export const skillPage = (session: boolean) =>
  appDocument({ title: "Skill", current: "/library", body: BODY, script: FORM + RUN + PAGE, session });
