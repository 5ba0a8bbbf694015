// Settings pages for what happened and how to connect: credits (balance and transactions), the audit log
// (filters and paging) and the MCP client configuration filled in with this server's own URL.
import type { SettingsPage } from "./settings";

const BILLING_BODY = `<dl class="facts"><dt>Balance</dt><dd id="balance">—</dd><dt>Tier</dt><dd id="tier">—</dd><dt>Prices</dt><dd id="prices">—</dd></dl>
<h3>Transactions</h3>
<ul class="rows" id="transactions" aria-label="Credit transactions"></ul>
<div class="toolbar"><button type="button" class="plain" id="more-tx" hidden>Load more transactions</button></div>
<p id="billing-status" class="msg" role="status" hidden></p>`;

const BILLING_SCRIPT = `
var txAfter = null;
function money(n, cur) { return (Math.round(n * 1e6) / 1e6) + " " + (cur || ""); }
async function loadTx(more) {
  try {
    var page = await api("/api/v1/billing/transactions?limit=50" + (more && txAfter ? "&after_id=" + encodeURIComponent(txAfter) : ""));
    var ul = $("transactions"); if (!more) ul.replaceChildren();
    page.data.forEach(function (t) {
      var ex = t.executionId ? el("a", "Execution") : null; if (ex) ex.href = "/executions/" + encodeURIComponent(t.executionId);
      ul.append(row([el("span", fmtTime(t.createdAt), "muted"), el("span", t.kind, "badge"), el("span", t.description, "grow"), el("strong", (t.amount > 0 ? "+" : "") + money(t.amount)), el("span", "balance " + money(t.balanceAfter), "muted"), ex]));
    });
    if (!ul.children.length) ul.append(emptyRow("No transactions yet."));
    txAfter = page.last_id; $("more-tx").hidden = !page.has_more;
  } catch (e) { say($("billing-status"), "Could not list the transactions: " + e.message, "err"); }
}
async function load() {
  try {
    var b = await api("/api/v1/billing/balance"); $("balance").textContent = money(b.balance, b.currency);
    var t = await api("/api/v1/billing/subscription/tier"); $("tier").textContent = t.name;
    $("prices").textContent = t.prices.inputPerMTok + " in / " + t.prices.outputPerMTok + " out per million tokens (" + t.prices.currency + ")";
  } catch (e) { say($("billing-status"), "Could not read the balance: " + e.message, "err"); }
  loadTx(false);
}
$("more-tx").onclick = function () { loadTx(true); };
`;

const AUDIT_BODY = `<form id="audit-form" class="toolbar">
<label>Action<input id="f-action" placeholder="api_key.create" maxlength="100" autocomplete="off"></label>
<label>Actor<select id="f-actor"><option value="">Anyone</option></select></label>
<label>From<input id="f-from" type="date"></label>
<label>To<input id="f-to" type="date"></label>
<button>Apply filters</button></form>
<p id="audit-note" class="muted" role="status"></p>
<ul class="rows" id="audit" aria-label="Audit log entries"></ul>
<div class="toolbar"><button type="button" class="plain" id="more-audit" hidden>Load older entries</button></div>
<p id="audit-status" class="msg" role="status" hidden></p>`;

const AUDIT_SCRIPT = `
var auditAfter = null, people = {}, shown = 0;
function actorName(a) {
  if (a.userId && people[a.userId]) return people[a.userId] + (a.apiKeyId ? " (API key)" : "");
  return a.type + (a.apiKeyId ? " " + a.apiKeyId : a.userId ? " " + a.userId : "");
}
function query(more) {
  var q = new URLSearchParams({ limit: "50" });
  if ($("f-action").value.trim()) q.set("action", $("f-action").value.trim());
  // The days the person picked are theirs, as the times shown are: local midnight to local end of day, sent as UTC
  // (a bare date is a UTC day, hours away from the day the page shows).
  if ($("f-from").value) q.set("start_date", new Date($("f-from").value + "T00:00:00").toISOString());
  if ($("f-to").value) q.set("end_date", new Date($("f-to").value + "T23:59:59.999").toISOString());
  if (more && auditAfter) q.set("after_id", auditAfter);
  return q.toString();
}
async function loadAudit(more) {
  try {
    var page = await api("/api/v1/audit-logs?" + query(more), { labels: { start_date: "“From”", end_date: "“To”" } }), ul = $("audit"), actor = $("f-actor").value;
    if (!more) { ul.replaceChildren(); shown = 0; }
    // The API filters by action and dates; the actor filter applies to the entries this page has loaded.
    page.data.filter(function (a) { return !actor || a.actor.userId === actor; }).forEach(function (a) {
      shown++;
      var li = row([el("span", fmtTime(a.createdAt), "muted"), el("code", a.action), el("span", a.resourceType + (a.resourceId ? " " + a.resourceId : ""), "grow"), el("span", actorName(a.actor)), el("span", a.ip || "", "muted")]);
      li.dataset.action = a.action; ul.append(li);
    });
    auditAfter = page.last_id; $("more-audit").hidden = !page.has_more;
    if (!shown) ul.replaceChildren(emptyRow("No entries match."));
    $("audit-note").textContent = shown + " entr" + (shown === 1 ? "y" : "ies") + " shown" + (page.has_more ? "; older ones below." : ".");
    say($("audit-status"), "");
  } catch (e) {
    // The list shown no longer answers the filter asked for: gone with its count, the reason in its place.
    if (!more) { $("audit").replaceChildren(); $("audit-note").textContent = ""; $("more-audit").hidden = true; }
    say($("audit-status"), "Could not read the audit log: " + e.message, "err");
  }
}
$("audit-form").onsubmit = function (e) { e.preventDefault(); loadAudit(false); };
$("more-audit").onclick = function () { loadAudit(true); };
async function load() {
  try {
    var m = (await api("/api/v1/workspaces/" + encodeURIComponent(me.workspaceId) + "/members?limit=100")).data, sel = $("f-actor");
    m.forEach(function (x) { people[x.id] = x.email || x.name; var o = el("option", x.email || x.name); o.value = x.id; sel.append(o); });
  } catch (e) { say($("audit-status"), "Could not list the members for the actor filter: " + e.message, "err"); }
  loadAudit(false);
}
`;

const MCP_BODY = `<p class="muted">Agents (Claude Desktop, Cursor, Claude Code…) reach this server's tools over MCP. Put one of these in the agent's MCP configuration, with an API key from <a href="/settings/keys">API keys</a> in place of <code>ck_…</code>.</p>
<h3>stdio: the agent starts the binary</h3>
<p class="muted">On the machine that holds the data folder. Put the path of the clanker binary in <code>command</code> (in a checkout: <code>bun</code> with <code>src/main.ts</code> first in <code>args</code>) and the data folder after <code>--data</code>: <code>clanker keys create</code> run there prints this configuration filled in, with a new key.</p>
<pre class="block" id="mcp-stdio" aria-label="stdio configuration"></pre><button type="button" class="plain" data-copy="mcp-stdio">Copy stdio configuration</button>
<h3>Streamable HTTP, signing in through the browser</h3>
<p class="muted">For clients that support MCP sign-in (OAuth): no key to paste. The client opens this server in your browser; you approve it for the workspace you pick, and it gets a key of its own, listed under API keys.</p>
<pre class="block" id="mcp-oauth" aria-label="HTTP configuration with browser sign-in"></pre><button type="button" class="plain" data-copy="mcp-oauth">Copy sign-in configuration</button>
<h3>Streamable HTTP with a key</h3>
<pre class="block" id="mcp-http" aria-label="HTTP configuration"></pre><button type="button" class="plain" data-copy="mcp-http">Copy HTTP configuration</button>
<h3>SSE (older clients)</h3>
<pre class="block" id="mcp-sse" aria-label="SSE configuration"></pre><button type="button" class="plain" data-copy="mcp-sse">Copy SSE configuration</button>
<p id="mcp-status" class="msg" role="status" hidden></p>`;

const MCP_SCRIPT = `
function snippet(server) { return JSON.stringify({ mcpServers: { clanker: server } }, null, 2); }
function load() {
  var base = location.origin;
  $("mcp-stdio").textContent = snippet({ command: "/path/to/clanker", args: ["mcp", "--data", "/path/to/data"], env: { CLANKER_API_KEY: "ck_…" } });
  $("mcp-oauth").textContent = snippet({ type: "http", url: base + "/mcp" });
  $("mcp-http").textContent = snippet({ type: "http", url: base + "/mcp", headers: { "x-api-key": "ck_…" } });
  $("mcp-sse").textContent = snippet({ type: "sse", url: base + "/mcp/sse", headers: { Authorization: "Bearer ck_…" } });
}
document.querySelectorAll("[data-copy]").forEach(function (b) {
  b.onclick = async function () {
    try { await navigator.clipboard.writeText($(b.dataset.copy).textContent); say($("mcp-status"), "Copied.", "ok"); }
    catch (e) { say($("mcp-status"), "Copying was refused by the browser: select the text and copy it by hand.", "err"); }
  };
});
`;

export const accountPages: SettingsPage[] = [
  { slug: "billing", label: "Credits", admin: false, body: BILLING_BODY, script: BILLING_SCRIPT },
  { slug: "audit", label: "Audit log", admin: false, body: AUDIT_BODY, script: AUDIT_SCRIPT },
  { slug: "mcp", label: "MCP", admin: false, body: MCP_BODY, script: MCP_SCRIPT },
];
