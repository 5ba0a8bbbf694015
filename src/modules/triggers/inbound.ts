// Checking what arrives at POST /hooks/:triggerId: the two signature schemes (ours and GitHub's), and the workflow
// input a GitHub event becomes. Pure functions; the service decides what to launch.
import { bytesEqual, hmacSha256 } from "../../lib/crypto";
import { AuthenticationError } from "../../lib/errors";
import type { GithubEvent } from "../workflows/definition";
import { isJsonObject } from "../../lib/json-object";

/** A signed request older (or further in the future) than this is refused: a captured one cannot be replayed later. */
export const REPLAY_WINDOW_SECONDS = 300;

const invalid = (why: string) => new AuthenticationError(`Signature refused: ${why}`, "SIGNATURE_INVALID");

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Constant time over the digest bytes, so upper- and lower-case hex compare equal. `given` is 64 hex digits. */
function sameDigest(given: string, expected: Buffer): boolean {
  return bytesEqual(Buffer.from(given, "hex"), expected);
}

/**
 * The parts of a clanker-signature header: exactly one `t` (unix seconds) and one or more `v1` (64 hex digits),
 * comma-separated, spaces around a part allowed; anything else (a second t, another key, an empty part) refuses it.
 */
function parseClankerHeader(header: string): { t: number; v1: string[] } {
  const shape = "clanker-signature must be t=<unix seconds>,v1=<64 hex digits>[,v1=…]";
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const m = /^\s*(t|v1)=([^=\s]*)\s*$/.exec(part);
    if (!m) throw invalid(shape);
    const [, key, value] = m as unknown as [string, string, string];
    if (key === "t") {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) throw invalid(shape);
      t = Number(value);
    } else {
      if (!HEX64.test(value)) throw invalid(shape);
      v1.push(value);
    }
  }
  if (t === undefined || v1.length === 0) throw invalid(shape);
  return { t, v1 };
}

/**
 * `clanker-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.rawbody")>` — the scheme of our outgoing
 * webhooks. Several v1 values are allowed (a sender mid-rotation). Answers the timestamp and the expected HMAC:
 * the replay key, which no re-spelling of the header (case, spaces, extra v1 values) changes.
 */
export function verifyClankerSignature(secret: string, header: string | null, raw: Uint8Array, nowSeconds: number): { t: number; hmac: string } {
  if (!header) throw new AuthenticationError('Missing clanker-signature header (t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">)', "SIGNATURE_MISSING");
  const { t, v1 } = parseClankerHeader(header);
  const expected = hmacSha256(secret).update(`${t}.`).update(raw).digest();
  // Every value is compared (no early exit), so the time taken says nothing about which one matched.
  let match = false;
  for (const g of v1) match = sameDigest(g, expected) || match;
  if (!match) throw invalid("the HMAC does not match this trigger's secret");
  if (Math.abs(nowSeconds - t) > REPLAY_WINDOW_SECONDS)
    throw new AuthenticationError(`Signature timestamp is more than ${REPLAY_WINDOW_SECONDS} seconds from the server's clock`, "SIGNATURE_EXPIRED");
  return { t, hmac: expected.toString("hex") };
}

const GITHUB_HEADER = /^sha256=([0-9a-fA-F]{64})$/;
const githubShape = () => invalid("X-Hub-Signature-256 must be sha256=<hex>");

/** GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, rawbody)>`. */
export function verifyGithubSignature(secret: string, header: string | null, raw: Uint8Array): void {
  if (!header) throw new AuthenticationError("Missing X-Hub-Signature-256 header (set the webhook's secret on GitHub)", "SIGNATURE_MISSING");
  const m = GITHUB_HEADER.exec(header.trim());
  if (!m) throw githubShape();
  if (!sameDigest(m[1]!, hmacSha256(secret).update(raw).digest())) throw invalid("the HMAC does not match this trigger's secret");
}

/**
 * Why a delivery's headers alone show it cannot be authentic, whatever its trigger (signed in neither scheme, or
 * each signature header misshapen), or null. Asked before the body is read: an unsigned body up to the size limit
 * was read whole for its 401.
 */
export function unsignedRefusal(headers: Headers): AuthenticationError | null {
  const clanker = headers.get("clanker-signature");
  const github = headers.get("x-hub-signature-256");
  if (!clanker && !github)
    return new AuthenticationError('Missing signature header: clanker-signature (t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">) for a webhook trigger, X-Hub-Signature-256 for a github one', "SIGNATURE_MISSING");
  if (github && GITHUB_HEADER.test(github.trim())) return null;
  if (!clanker) return githubShape();
  try {
    parseClankerHeader(clanker);
    return null;
  } catch (e) {
    return e as AuthenticationError;
  }
}

type Json = Record<string, unknown>;
const o = (v: unknown): Json => (isJsonObject(v) ? (v as Json) : {});
const s = (v: unknown): string | null => (typeof v === "string" ? v : null);
const n = (v: unknown): number | null => (typeof v === "number" ? v : null);
const login = (v: unknown) => s(o(v).login);

const ACTIONS: Record<GithubEvent, readonly (string | null)[]> = { push: [null], pull_request: ["opened", "synchronize"], issues: ["opened"] };

export type GithubOutcome = { input: Json } | { ignored: string };

/**
 * A GitHub delivery → the workflow input, or why it starts nothing. The input is a small, stable shape (not the
 * whole payload, which runs to tens of kilobytes): {event, action, repository: "owner/repo", sender, delivery}
 * plus `pull_request`, `issue` or `push` — see README "Triggers".
 */
export function githubInput(
  event: string,
  payload: Json,
  settings: { events?: string[]; repo?: string },
  delivery: string | null,
  madeByWorkflow: (repo: string, title: string, body: string | null) => boolean,
): GithubOutcome {
  if (!(event in ACTIONS)) return { ignored: `GitHub event '${event}' does not start workflows (push, pull_request, issues do)` };
  const ev = event as GithubEvent;
  if (!(settings.events ?? []).includes(ev)) return { ignored: `this trigger does not listen to '${ev}' events` };
  const action = ev === "push" ? null : s(payload.action);
  if (!ACTIONS[ev].includes(action)) return { ignored: `'${ev}' with action '${action}' does not start workflows (${ACTIONS[ev].join(", ")} do)` };
  const repository = s(o(payload.repository).full_name);
  if (settings.repo && repository?.toLowerCase() !== settings.repo.toLowerCase())
    return { ignored: `repository '${repository}' is not this trigger's repository '${settings.repo}'` };
  const base: Json = { event: ev, action, repository, sender: login(payload.sender), delivery };
  if (ev === "pull_request") {
    const pr = o(payload.pull_request);
    const ref = (v: unknown) => ({ ref: s(o(v).ref), sha: s(o(v).sha) });
    return {
      input: {
        ...base,
        pull_request: { number: n(pr.number) ?? n(payload.number), title: s(pr.title), body: s(pr.body), url: s(pr.html_url), state: s(pr.state), draft: pr.draft === true, user: login(pr.user), head: ref(pr.head), base: ref(pr.base) },
      },
    };
  }
  if (ev === "issues") {
    const issue = o(payload.issue);
    if (repository && madeByWorkflow(repository, s(issue.title) ?? "", s(issue.body)))
      return { ignored: "this issue was opened by a workflow's action: an issue a workflow opens starts no workflow, so none can trigger itself" };
    const labels = Array.isArray(issue.labels) ? issue.labels.map((l) => s(o(l).name)).filter((l) => l !== null) : [];
    return { input: { ...base, issue: { number: n(issue.number), title: s(issue.title), body: s(issue.body), url: s(issue.html_url), user: login(issue.user), labels } } };
  }
  const ref = s(payload.ref);
  const commits = Array.isArray(payload.commits) ? payload.commits.slice(0, 20).map((c) => ({ id: s(o(c).id), message: s(o(c).message), author: s(o(o(c).author).username) ?? s(o(o(c).author).name), url: s(o(c).url) })) : [];
  return {
    input: { ...base, push: { ref, branch: ref?.startsWith("refs/heads/") ? ref.slice(11) : null, before: s(payload.before), after: s(payload.after), pusher: s(o(payload.pusher).name), commits } },
  };
}
