// /memory: the workspace's memory.md as text, editable; saves are conditional on the ETag it loaded, and a
// 412 ETAG_MISMATCH is shown as a conflict (with the other writer's version), never silently overwritten.
import { appDocument } from "./shell";
import { MARKDOWN_SCRIPT } from "./markdown";

const BODY = `${MARKDOWN_SCRIPT}<h1>Memory</h1>
<p class="muted">The workspace's shared memory.md: the people and agents of this workspace read it and append notes to it (over the API and MCP; skill runs are not given it).</p>
<p id="meta" class="muted" role="status"></p>
<div class="split"><form id="memory-form" class="stack wide">
<label>Memory (Markdown)<textarea id="memory" name="memory" rows="16" spellcheck="false"></textarea></label>
<div class="toolbar"><button id="save">Save</button><button type="button" class="plain" id="reload">Reload</button></div>
</form>
<section aria-labelledby="preview-title"><h2 id="preview-title">Preview</h2><div id="memory-preview" class="md"></div></section></div>
<p id="save-status" class="msg" role="status" hidden></p>
<section id="conflict" aria-labelledby="conflict-title" hidden>
<h2 id="conflict-title">Conflict: someone else changed the memory</h2>
<p class="msg err" id="conflict-text" role="alert"></p>
<h3>Their version</h3>
<pre class="block" id="theirs" aria-label="Their version"></pre>
<div class="toolbar"><button type="button" id="take-theirs">Load their version (discard my edits)</button>
<button type="button" class="plain" id="keep-mine">Save mine over theirs</button></div>
</section>`;

const SCRIPT = `
var etag = null, latest = null;
// fetch by hand, not api(): the page needs the ETag header and the error code, not only the message.
async function memoryCall(method, body, ifMatch) {
  var headers = inPageWs({}); if (body !== undefined) headers["content-type"] = "application/json"; if (ifMatch) headers["if-match"] = ifMatch;
  var r = await fetch("/api/v1/memory", { method: method, credentials: "same-origin", headers: headers, body: body !== undefined ? JSON.stringify(body) : undefined });
  var data = await r.json().catch(function () { return {}; });
  if (!r.ok) throw apiError(r, data);
  return { doc: data, etag: r.headers.get("etag") };
}
function showMeta(doc) {
  $("meta").textContent = doc.version ? "Version " + doc.version + ", saved " + fmtTime(doc.updatedAt) : "Empty: nothing saved yet.";
}
// The preview follows the editor (rendered and sanitized by markdown.ts), a moment after typing stops.
var previewTimer = null;
function preview() { clearTimeout(previewTimer); markdown.render($("memory-preview"), $("memory").value, 2); }
$("memory").addEventListener("input", function () { clearTimeout(previewTimer); previewTimer = setTimeout(preview, 200); });
function adopt(res) { etag = res.etag; showMeta(res.doc); $("memory").value = res.doc.content; preview(); $("conflict").hidden = true; }
async function load() {
  try { adopt(await memoryCall("GET")); say($("save-status"), "", ""); }
  catch (err) { say($("page-error"), "Could not load the memory: " + err.message, "err"); }
}
async function save(over) {
  var button = $("save"); button.disabled = true;
  try {
    var res = await memoryCall("PUT", { content: $("memory").value }, over || etag);
    etag = res.etag; showMeta(res.doc); $("conflict").hidden = true;
    say($("save-status"), "Saved (version " + res.doc.version + ").", "ok");
  } catch (err) {
    if (err.status === 412 && err.code === "ETAG_MISMATCH") await conflict();
    else say($("save-status"), "Could not save: " + err.message, "err");
  } finally { button.disabled = false; }
}
async function conflict() {
  say($("save-status"), "", "");
  try {
    latest = await memoryCall("GET");
    $("conflict-text").textContent = "Someone else saved the memory after you loaded it (it is now version " + latest.doc.version +
      ", saved " + fmtTime(latest.doc.updatedAt) + "). Your edits were not saved and are still in the editor. Compare with their version below, then choose.";
    $("theirs").textContent = latest.doc.content;
    $("conflict").hidden = false; $("conflict-title").scrollIntoView();
  } catch (err) { say($("save-status"), "Someone else changed the memory, and reading their version failed: " + err.message, "err"); }
}
$("memory-form").onsubmit = function (e) { e.preventDefault(); save(); };
$("reload").onclick = load;
$("take-theirs").onclick = function () { if (latest) adopt(latest); say($("save-status"), "Loaded their version.", "ok"); };
// Still conditional: on the version just shown, so a third writer in between is another conflict.
$("keep-mine").onclick = function () { if (latest) save(latest.etag); };
whoAmI().then(function (me) { if (me) load(); });
`;

export const memoryPage = (session: boolean) => appDocument({ title: "Memory", current: "/memory", body: BODY, script: SCRIPT, session });
