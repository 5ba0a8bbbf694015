// The bench's peer: Node + Fastify + better-sqlite3 doing the work of our GET /api/v1/profile on the same store
// (hash the x-api-key, load the key with its member's role, load the user row, answer the profile JSON).
// Prepared statements, no cache: what a plain service on that stack does. Run by test/bench/http.ts with
// NODE_PATH pointing at the folder it installed fastify and better-sqlite3 into (never the repo's).
//
// Two modes. `bare` (the default) is the above and nothing else. `same-work` also does what our server does around
// that GET on every request, each the way that stack does it: the request id (taken from x-request-id when valid,
// else made, as Fastify's genReqId) and the version, frame and CSP headers; the Host check a loopback-bound server
// makes; the per-key rate-limit window with its three headers; and one access line per answered request through
// Fastify's logger (pino) into a buffered destination that writes in batches, as ours does. What it still leaves
// out: our metrics sample (~1 % of our GET) and our response-schema check (5 ns).
// usage: node peer-fastify.cjs <path to clanker.db> [bare|same-work]
"use strict";
const { createHash } = require("node:crypto");
const Fastify = require("fastify");
const Database = require("better-sqlite3");

const sameWork = process.argv[3] === "same-work";
const db = new Database(process.argv[2], { readonly: true, fileMustExist: true });
db.pragma("busy_timeout = 5000");
const keyByHash = db.prepare(
  `SELECT k.id AS keyId, k.workspace_id AS workspaceId, k.user_id AS userId, k.revoked_at AS revokedAt, m.role AS role
   FROM api_keys k LEFT JOIN memberships m ON m.workspace_id = k.workspace_id AND m.user_id = k.user_id
   WHERE k.key_hash = ?`,
);
const userById = db.prepare("SELECT id, email, name, created_at AS createdAt FROM users WHERE id = ?");

const fail = (reply, status, type, message) => reply.code(status).send({ error: { type, message } });
const unauthorized = (reply, message) => fail(reply, 401, "authentication_error", message);

const REQUEST_ID_RE = /^[A-Za-z0-9._:\-]{1,128}$/;
const REQUEST_ID_PREFIX = `req_${Math.random().toString(36).slice(2, 14)}`;
let requestSeq = 0;
const API_VERSION = "2025-01-01";
const VERSION_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const validVersion = (v) => VERSION_RE.test(v) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);
const CSP = "default-src 'none'; frame-ancestors 'none'";
const ALLOWED_HOSTS = ["127.0.0.1", "localhost", "::1"];
const knownHosts = new Map();
const hostOf = (header) => {
  let host = knownHosts.get(header);
  if (host === undefined) {
    try {
      host = new URL(`http://${header}`).hostname.toLowerCase();
    } catch {
      host = "";
    }
    if (knownHosts.size < 1000) knownHosts.set(header, host);
  }
  return host;
};
const LIMIT = Number(process.env.CLANKER_RATE_LIMIT_PER_MINUTE ?? 120);
const windows = new Map();

function loggerInstance() {
  const pino = require("pino");
  return pino({ level: "info" }, pino.destination({ dest: 1, sync: false, minLength: 4096 }));
}

const app = Fastify(
  sameWork
    ? {
        loggerInstance: loggerInstance(),
        // Fastify's own two lines per request off: the one access line below stands for ours.
        ...(Fastify.LogController ? { logController: new Fastify.LogController({ disableRequestLogging: true }) } : { disableRequestLogging: true }),
        genReqId: (req) => {
          const incoming = req.headers["x-request-id"];
          return typeof incoming === "string" && REQUEST_ID_RE.test(incoming) ? incoming : REQUEST_ID_PREFIX + (++requestSeq).toString(36);
        },
      }
    : { logger: false },
);

if (sameWork) {
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    reply.header("x-frame-options", "DENY");
    reply.header("content-security-policy", CSP);
    const host = hostOf(request.headers.host ?? "");
    if (!ALLOWED_HOSTS.includes(host)) return fail(reply, 403, "permission_error", `Host '${host}' is not allowed`);
    const version = request.headers["clanker-version"];
    if (version !== undefined && !validVersion(version)) return fail(reply, 400, "invalid_request_error", `clanker-version must be a date like ${API_VERSION}`);
    reply.header("clanker-version", version ?? API_VERSION);
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    const route = request.routeOptions.url ?? "(unmatched)";
    request.log.info({ requestId: request.id, method: request.method, route, status: reply.statusCode, ms }, `${request.method} ${route} ${reply.statusCode} ${ms}ms ${request.id}`);
    done();
  });
}

/** The key's fixed one-minute window, as our in-process limiter keeps it; false once it is used up. */
function withinLimit(reply, keyId) {
  const now = Date.now();
  let w = windows.get(keyId);
  if (!w || w.resetAt <= now) windows.set(keyId, (w = { count: 0, resetAt: now + 60_000 }));
  w.count++;
  reply.header("x-ratelimit-limit", String(LIMIT));
  reply.header("x-ratelimit-remaining", String(Math.max(0, LIMIT - w.count)));
  reply.header("x-ratelimit-reset", String(Math.max(1, Math.ceil((w.resetAt - now) / 1000))));
  return w.count <= LIMIT;
}

app.get("/api/v1/profile", (request, reply) => {
  const raw = request.headers["x-api-key"];
  if (typeof raw !== "string" || !raw) return unauthorized(reply, "Missing credentials");
  const k = keyByHash.get(createHash("sha256").update(raw).digest("hex"));
  if (!k) return unauthorized(reply, "Invalid API key");
  if (k.revokedAt !== null) return unauthorized(reply, "This API key has been revoked");
  const role = k.userId === null ? "member" : k.role;
  if (role === null) return unauthorized(reply, "Not a member");
  if (sameWork && !withinLimit(reply, k.keyId)) return fail(reply, 429, "rate_limit_error", `Rate limit of ${LIMIT} requests per minute exceeded`);
  const u = k.userId === null ? undefined : userById.get(k.userId);
  return {
    id: u ? `usr_${u.id}` : null,
    email: u ? u.email : null,
    name: u ? u.name : null,
    createdAt: u ? new Date(u.createdAt).toISOString() : null,
    workspaceId: `ws_${k.workspaceId}`,
    role,
    authMethod: "api_key",
    apiKeyId: `key_${k.keyId}`,
  };
});

// The access lines go to stdout: the address goes to stderr, where http.ts reads it.
app.listen({ host: "127.0.0.1", port: 0 }).then((address) => console.error(`peer listening on ${address}`));
