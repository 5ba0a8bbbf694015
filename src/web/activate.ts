// The /activate page, inside the web app's frame: sign in with a mailed code (session cookie), then approve a
// device's activation code (the CLI's device flow). The device's key is made in the workspace the page acts in.
import { appDocument } from "./app/shell";

const BODY = `<h1>Activate a device</h1>
<p class="muted">A CLI or app on another device showed you a code: sign in, type it here and approve, and that device receives an API key.</p>
<p id="signed-in" class="msg" hidden></p>
<form id="email-form" class="stack" hidden><label>Sign in with your email<input id="email" type="email" required autocomplete="email"></label><button>Send me a code</button></form>
<form id="otp-form" class="stack" hidden><label>The 6-digit code we mailed you<input id="otp" inputmode="numeric" pattern="[0-9]{6}" required autocomplete="one-time-code"></label><button>Sign in</button></form>
<form id="code-form" class="stack" hidden><label>The code your device shows<input id="code" class="code" required placeholder="ABCD-1234" autocomplete="off" spellcheck="false"></label>
<p id="preset-warning" class="msg err" hidden>This code came with the link you followed. Approve only if you started this sign-in yourself and your device shows exactly this code: whoever holds that device gets a key that acts as you.</p>
<label class="check" id="preset-check" hidden><input type="checkbox" id="preset-confirm"> My device shows this code, and I started this sign-in</label>
<div class="toolbar"><button id="approve">Approve</button><button type="button" class="plain" id="deny">Deny: I did not start this</button></div></form>
<p id="status" class="msg" role="status" hidden></p>`;

const SCRIPT = `
function show(id, on) { $(id).hidden = on === false; }
function status(text, kind) { say($("status"), text, kind); }
// A code that arrives in the link (RFC 8628's verification_uri_complete) could be someone else's device, sent in
// a message: the person must confirm it matches their own device before approving (RFC 8628 section 5.4).
var preset = new URLSearchParams(location.search).get("code");
if (preset) { $("code").value = preset; show("preset-warning"); show("preset-check"); $("preset-confirm").required = true; }
// Without a session cookie nobody is signed in: no 401 round trip (and no console error) to learn it.
async function refresh(afterSignIn) {
  if (!signedIn && !afterSignIn) { show("email-form"); $("email").focus(); return; }
  try {
    var me = await api("/api/v1/profile");
    $("who-email").textContent = me.email; show("who"); workspaces();
    $("signed-in").textContent = "Signed in as " + me.email + "."; show("signed-in");
    show("email-form", false); show("otp-form", false); show("code-form"); $("code").focus();
  } catch (e) {
    if (e.status === 404 && wsId()) { setWs(""); return refresh(afterSignIn); }
    if (e.status !== 401) status("Could not check who is signed in: " + e.message, "err");
    show("email-form"); $("email").focus();
  }
}
$("email-form").onsubmit = async function (e) { e.preventDefault();
  try { await api("/api/v1/auth/email/start", { method: "POST", body: { email: $("email").value } }); show("email-form", false); show("otp-form"); $("otp").focus(); status("Check your mail for a code.", ""); }
  catch (err) { status(err.message, "err"); } };
$("otp-form").onsubmit = async function (e) { e.preventDefault();
  try { await api("/api/v1/auth/email/verify", { method: "POST", body: { email: $("email").value, code: $("otp").value.trim() } }); status("", ""); await refresh(true); }
  catch (err) { status(err.message, "err"); } };
$("code-form").onsubmit = async function (e) { e.preventDefault();
  try { await api("/api/v1/activate/confirm", { method: "POST", body: { code: $("code").value } }); status("Approved. Your device will receive its key in a moment.", "ok"); show("code-form", false); }
  catch (err) { status(err.message, "err"); } };
$("deny").onclick = async function () {
  if (!$("code").reportValidity()) return;
  try { await api("/api/v1/activate/deny", { method: "POST", body: { code: $("code").value } }); status("Denied. That device gets no key.", "ok"); show("code-form", false); }
  catch (err) { status(err.message, "err"); } };
refresh();
`;

// Two documents, made once (the CSP hashes their blocks): with a session cookie the script asks the API who is signed in.
const PAGES = [false, true].map((session) => appDocument({ title: "Activate a device", current: "/activate", body: BODY, script: SCRIPT, session }));
export const activatePage = (session: boolean): string => PAGES[session ? 1 : 0]!;
