// What a browser does with an OAuth callback: opens the confirmation page the server shows, reads its form, and
// posts state and code back from the server's own origin (or, to test refusals, from elsewhere).
import { expect } from "bun:test";

/** The page text with our escapes (&#NN;) undone, to look for names in it. */
export const unescape = (s: string) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));

export interface ConfirmForm {
  action: string;
  state: string;
  code: string;
}

/** The confirmation page's form, or null when the page has none (a refusal). */
export function formOf(html: string): ConfirmForm | null {
  const action = /<form method="post" action="([^"]*)"/.exec(html)?.[1];
  const state = /name="state" value="([^"]*)"/.exec(html)?.[1];
  const code = /name="code" value="([^"]*)"/.exec(html)?.[1];
  if (action === undefined || state === undefined || code === undefined) return null;
  return { action: unescape(action), state: unescape(state), code: unescape(code) };
}

/** GETs the callback and expects the confirmation page; answers its form. */
export async function openConfirmation(callbackUrl: string, headers: Record<string, string> = {}): Promise<{ form: ConfirmForm; html: string }> {
  const page = await fetch(callbackUrl, { headers });
  const html = await page.text();
  expect({ status: page.status, type: page.headers.get("content-type"), html: html.slice(0, 600) }).toMatchObject({ status: 200, type: "text/html; charset=utf-8" });
  const csp = page.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("form-action 'self'");
  expect(page.headers.get("referrer-policy")).toBe("same-origin");
  const form = formOf(html);
  expect(form).not.toBeNull();
  return { form: form!, html };
}

/** Posts the form back as the page would (multipart, Origin = the server); `origin: null` sends none. */
export async function postConfirmation(form: ConfirmForm, opts: { origin?: string | null; headers?: Record<string, string> } = {}): Promise<{ status: number; html: string }> {
  const fd = new FormData();
  fd.set("state", form.state);
  fd.set("code", form.code);
  const headers: Record<string, string> = { ...opts.headers };
  const origin = opts.origin === undefined ? new URL(form.action).origin : opts.origin;
  if (origin !== null) headers.origin = origin;
  const r = await fetch(form.action, { method: "POST", body: fd, headers });
  return { status: r.status, html: await r.text() };
}

/** The whole confirm step: page, then post from our origin. */
export async function confirmCallback(callbackUrl: string, headers: Record<string, string> = {}): Promise<{ status: number; html: string; form: ConfirmForm; page: string }> {
  const { form, html: page } = await openConfirmation(callbackUrl, headers);
  return { ...(await postConfirmation(form, { headers })), form, page };
}
