// The sign-in page (/ and /login): email → mailed 6-digit code → session cookie → the app (or ?next=).
import { appDocument } from "./shell";

const BODY = `<h1>Sign in to Clanker</h1>
<p id="status" class="msg" role="status" hidden></p>
<form id="email-form" class="stack" hidden><label>Email<input id="email" name="email" type="email" required autocomplete="email"></label><button>Send me a code</button></form>
<form id="otp-form" class="stack" hidden><label>The 6-digit code we mailed you<input id="otp" name="otp" inputmode="numeric" pattern="[0-9]{6}" required autocomplete="one-time-code"></label><button>Sign in</button>
<button type="button" class="plain" id="other-email">Use another email</button></form>
<p class="muted">No mail server configured? The code is in the <code>outbox/</code> folder of the server's data folder (<code>data/outbox/</code> by default): the server's log names the file.</p>`;

const SCRIPT = `
function next() {
  var n = new URLSearchParams(location.search).get("next") || "";
  // Only a page of this site, never an open redirect. The browser's own parse decides, not a pattern: it drops tabs
  // and line breaks and reads a backslash as a slash, so "/<tab>/evil.example" is "//evil.example", another host.
  try {
    var u = new URL(n, location.origin);
    // The path as the browser resolved it must not start "//" either: "/.//evil.example" resolves to the path
    // "//evil.example", which, handed back to the browser as a link, is another host.
    if (n.charAt(0) === "/" && u.origin === location.origin && u.pathname.slice(0, 2) !== "//") return u.pathname + u.search + (u.hash || location.hash);
  } catch (e) {}
  return "/executions";
}
async function start() {
  if (signedIn) {
    try { await api("/api/v1/profile"); location.replace(next()); return; }
    catch (e) {
      // A chosen workspace that is gone: forget it and try again. A 401 is simply "sign in"; anything else is said.
      if (e.status === 404 && wsId()) { setWs(""); return start(); }
      if (e.status !== 401 || e.code === "COOKIE_SENT_TWICE") say($("status"), "Could not check your session: " + e.message, "err");
    }
  }
  $("email-form").hidden = false; $("email").focus();
}
$("email-form").onsubmit = async function (e) { e.preventDefault();
  try { await api("/api/v1/auth/email/start", { method: "POST", body: { email: $("email").value } });
    $("email-form").hidden = true; $("otp-form").hidden = false; $("otp").focus();
    say($("status"), "Check your mail for a code.", ""); }
  catch (err) { say($("status"), err.message, "err"); } };
$("otp-form").onsubmit = async function (e) { e.preventDefault();
  try { await api("/api/v1/auth/email/verify", { method: "POST", body: { email: $("email").value, code: $("otp").value.trim() } }); location.replace(next()); }
  catch (err) { say($("status"), err.message, "err"); } };
$("other-email").onclick = function () { $("otp-form").hidden = true; $("email-form").hidden = false; say($("status"), "", ""); };
start();
`;

export const signinPage = (session: boolean) => appDocument({ title: "Sign in", body: BODY, script: SCRIPT, session, nav: false });
