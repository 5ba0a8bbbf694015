// /artifacts (the files runs produced: name, type, size, execution, date) and /artifacts/:id (facts, a
// preview that never turns the file into markup of this page, download, delete).
import { appDocument } from "./shell";
import { MARKDOWN_SCRIPT } from "./markdown";

const FMT = `
function fmtSize(n) { return n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KB" : (n / 1048576).toFixed(1) + " MB"; }
`;

const LIST_BODY = `<h1>Artifacts</h1>
<p class="muted">Files your runs produced. Open one to preview, download or delete it.</p>
<ul class="rows" id="artifacts" aria-label="Artifacts"></ul>
<p id="empty" class="muted" hidden>No artifacts yet. A completed run keeps its output here.</p>
<button type="button" class="plain" id="more" hidden>Show more</button>`;

const LIST_SCRIPT = FMT + `
var after = null;
async function load() {
  try {
    var page = await api("/api/v1/artifacts?limit=50" + (after ? "&after_id=" + encodeURIComponent(after) : ""));
    var ul = $("artifacts");
    page.data.forEach(function (a) {
      var li = document.createElement("li"); li.dataset.id = a.id;
      var main = document.createElement("span"); main.className = "grow";
      var link = document.createElement("a"); link.href = "/artifacts/" + a.id; link.textContent = a.name; main.append(link);
      var meta = document.createElement("span"); meta.className = "muted"; meta.textContent = a.mediaType + " · " + fmtSize(a.size) + " · " + fmtTime(a.createdAt);
      li.append(main, meta);
      if (a.executionId) { var ex = document.createElement("a"); ex.href = "/executions/" + a.executionId; ex.textContent = "Execution" + (a.skillSlug ? " (" + a.skillSlug + ")" : ""); li.append(ex); }
      ul.append(li);
    });
    $("empty").hidden = ul.children.length > 0;
    after = page.last_id; $("more").hidden = !page.has_more;
  } catch (err) { say($("page-error"), "Could not load artifacts: " + err.message, "err"); }
}
$("more").onclick = load;
whoAmI().then(function (me) { if (me) load(); });
`;

const DETAIL_BODY = `${MARKDOWN_SCRIPT}<p><a href="/artifacts">← All artifacts</a></p>
<h1 id="title">Artifact</h1>
<div class="toolbar"><a id="download" hidden download>Download</a>
<button type="button" class="plain" id="delete" hidden>Delete</button></div>
<p id="action-error" class="msg err" role="alert" hidden></p>
<dl class="facts" id="facts"></dl>
<h2>Preview</h2>
<p id="preview-error" class="msg err" role="alert" hidden></p><div id="preview"></div>`;

// Markdown is rendered and sanitized (markdown.ts); other text types are set with textContent, one numbered
// span per line (the numbers are CSS counters, so copying the text copies no numbers); images load from the
// download route; HTML renders only in a sandbox="" iframe from the download route's ?inline=1 form, which
// the server also answers with a CSP sandbox.
const PREVIEW_MAX = 1048576;
const DETAIL_SCRIPT = FMT + `
var id = pathPart(2);
var TEXTUAL = /^(text\\/|application\\/(json|xml|yaml|sql|javascript))/;
function fact(dl, name, value, href) {
  var dt = document.createElement("dt"); dt.textContent = name; var dd = document.createElement("dd");
  if (href) { var a = document.createElement("a"); a.href = href; a.textContent = value; dd.append(a); } else dd.textContent = value;
  dl.append(dt, dd);
}
function note(text) { var p = document.createElement("p"); p.className = "muted"; p.textContent = text; return p; }
async function preview(a) {
  var box = $("preview"); box.replaceChildren();
  if (a.mediaType === "text/html") {
    // A frame shows an error answer as a page of JSON and tells the parent nothing: ask first, and say what failed.
    try { var h = await fetch(a.downloadUrl + "?inline=1", { method: "HEAD", credentials: "same-origin", headers: inPageWs({}) }); if (!h.ok) throw new Error("The server answered " + h.status); }
    catch (e) { say($("preview-error"), "Could not load the preview: " + e.message, "err"); return; }
    var f = document.createElement("iframe"); f.className = "preview"; f.setAttribute("sandbox", ""); f.title = "Preview of " + a.name;
    f.src = a.downloadUrl + "?inline=1"; box.append(f); return;
  }
  if (a.mediaType.indexOf("image/") === 0) {
    var img = document.createElement("img"); img.className = "preview"; img.alt = a.name;
    img.onerror = function () { img.remove(); say($("preview-error"), "Could not load the image: download it to check it, or reload the page.", "err"); };
    img.src = a.downloadUrl; box.append(img); return;
  }
  if (!TEXTUAL.test(a.mediaType)) { box.append(note("No preview for " + a.mediaType + ": download it to open it.")); return; }
  if (a.size > ${PREVIEW_MAX}) { box.append(note("Too large to preview (" + fmtSize(a.size) + "): download it to read it.")); return; }
  try {
    var r = await fetch(a.downloadUrl, { credentials: "same-origin", headers: inPageWs({}) });
    if (!r.ok) throw new Error("The server answered " + r.status);
    var text = await r.text();
    if (a.mediaType === "text/markdown") {
      var md = document.createElement("div"); md.className = "md"; md.id = "preview-md"; markdown.render(md, text, 2); box.append(md); return;
    }
    var pre = document.createElement("pre"); pre.className = "block lines"; pre.id = "preview-text";
    var lines = text.replace(/\\n$/, "").split("\\n");
    lines.forEach(function (line, i) { var span = document.createElement("span"); span.className = "ln"; span.textContent = line + (i < lines.length - 1 ? "\\n" : ""); pre.append(span); });
    box.append(pre);
  } catch (err) { say($("action-error"), "Could not load the preview: " + err.message, "err"); }
}
async function load() {
  try {
    var a = await api("/api/v1/artifacts/" + encodeURIComponent(id));
    document.title = a.name + " — Artifact — Clanker"; $("title").textContent = a.name;
    var dl = $("facts"); dl.replaceChildren();
    fact(dl, "Type", a.mediaType); fact(dl, "Size", fmtSize(a.size)); fact(dl, "Created", fmtTime(a.createdAt));
    if (a.executionId) fact(dl, "Execution", a.executionId, "/executions/" + a.executionId);
    if (a.skillSlug) fact(dl, "Skill", a.skillSlug);
    var d = $("download"); d.href = a.downloadUrl; d.setAttribute("download", a.name); d.textContent = "Download " + a.name; d.hidden = false;
    $("delete").hidden = false;
    preview(a);
  } catch (err) { sayLoadError("artifact", err); }
}
$("delete").onclick = async function () {
  if (!confirm("Delete " + $("title").textContent + "? Its file is removed for good.")) return;
  try { await api("/api/v1/artifacts/" + encodeURIComponent(id), { method: "DELETE" }); location.href = "/artifacts"; }
  catch (err) { say($("action-error"), "Could not delete: " + err.message, "err"); }
};
whoAmI().then(function (me) { if (me) load(); });
`;

export const artifactsPage = (session: boolean) =>
  appDocument({ title: "Artifacts", current: "/artifacts", body: LIST_BODY, script: LIST_SCRIPT, session });
/** Frames its HTML preview: the only page whose policy allows `frame-src 'self'`. */
export const artifactPage = (session: boolean) =>
  appDocument({ title: "Artifact", current: "/artifacts", body: DETAIL_BODY, script: DETAIL_SCRIPT, session });
