// The /activate page: sign in with a mailed code (session cookie), then approve a device's activation code.
export const activatePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Activate a device — Clanker</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:420px;margin:48px auto;padding:0 16px;color:#1b1b1f}
h1{font-size:22px}form{display:flex;flex-direction:column;gap:10px;margin:16px 0}
input{font:inherit;padding:10px;border:1px solid #bbb;border-radius:6px}
input.code{letter-spacing:3px;text-transform:uppercase;font-family:ui-monospace,monospace}
button{font:inherit;padding:10px;border:0;border-radius:6px;background:#1b1b1f;color:#fff;cursor:pointer}
.msg{padding:10px;border-radius:6px;background:#f1f1f4}.err{background:#fde8e8;color:#8a1c1c}.ok{background:#e6f6ec;color:#1d5c33}
[hidden]{display:none!important}
</style></head><body>
<h1>Activate a device</h1>
<p id="who" class="msg" hidden></p>
<form id="email-form" hidden><label>Sign in with your email<input id="email" type="email" required autocomplete="email"></label><button>Send me a code</button></form>
<form id="otp-form" hidden><label>The 6-digit code we mailed you<input id="otp" inputmode="numeric" pattern="[0-9]{6}" required></label><button>Sign in</button></form>
<form id="code-form" hidden><label>The code your device shows<input id="code" class="code" required placeholder="ABCD-1234"></label><button id="approve">Approve</button></form>
<p id="status" class="msg" hidden></p>
<script>
const $ = (id) => document.getElementById(id);
const show = (id, on = true) => ($(id).hidden = !on);
function say(text, kind) { const s = $("status"); s.textContent = text; s.className = "msg " + (kind || ""); s.hidden = false; }
async function api(path, body) {
  const r = await fetch(path, { method: body ? "POST" : "GET", credentials: "same-origin", headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((data.error && data.error.message) || ("HTTP " + r.status));
  return data;
}
const preset = new URLSearchParams(location.search).get("code");
if (preset) $("code").value = preset;
async function refresh() {
  try {
    const me = await api("/api/v1/profile");
    $("who").textContent = "Signed in as " + me.email; show("who"); show("email-form", false); show("otp-form", false); show("code-form");
  } catch { show("email-form"); }
}
$("email-form").onsubmit = async (e) => { e.preventDefault();
  try { await api("/api/v1/auth/email/start", { email: $("email").value }); show("email-form", false); show("otp-form"); say("Check your mail for a code.", ""); } catch (err) { say(err.message, "err"); } };
$("otp-form").onsubmit = async (e) => { e.preventDefault();
  try { await api("/api/v1/auth/email/verify", { email: $("email").value, code: $("otp").value }); $("status").hidden = true; await refresh(); } catch (err) { say(err.message, "err"); } };
$("code-form").onsubmit = async (e) => { e.preventDefault();
  try { await api("/api/v1/activate/confirm", { code: $("code").value }); say("Approved. Your device will receive its key in a moment.", "ok"); show("code-form", false); } catch (err) { say(err.message, "err"); } };
refresh();
</script></body></html>`;
