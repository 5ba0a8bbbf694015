// The bench's peer: Node + Fastify + better-sqlite3 doing the work of our GET /api/v1/profile on the same store
// (hash the x-api-key, load the key with its member's role, load the user row, answer the profile JSON).
// Prepared statements, no cache: what a plain service on that stack does. Run by test/bench/http.ts with
// NODE_PATH pointing at the folder it installed fastify and better-sqlite3 into (never the repo's).
// usage: node peer-fastify.cjs <path to clanker.db>
"use strict";
const { createHash } = require("node:crypto");
const Fastify = require("fastify");
const Database = require("better-sqlite3");

const db = new Database(process.argv[2], { readonly: true, fileMustExist: true });
db.pragma("busy_timeout = 5000");
const keyByHash = db.prepare(
  `SELECT k.id AS keyId, k.workspace_id AS workspaceId, k.user_id AS userId, k.revoked_at AS revokedAt, m.role AS role
   FROM api_keys k LEFT JOIN memberships m ON m.workspace_id = k.workspace_id AND m.user_id = k.user_id
   WHERE k.key_hash = ?`,
);
const userById = db.prepare("SELECT id, email, name, created_at AS createdAt FROM users WHERE id = ?");

const unauthorized = (reply, message) => reply.code(401).send({ error: { type: "authentication_error", message } });

const app = Fastify({ logger: false });
app.get("/api/v1/profile", (request, reply) => {
  const raw = request.headers["x-api-key"];
  if (typeof raw !== "string" || !raw) return unauthorized(reply, "Missing credentials");
  const k = keyByHash.get(createHash("sha256").update(raw).digest("hex"));
  if (!k) return unauthorized(reply, "Invalid API key");
  if (k.revokedAt !== null) return unauthorized(reply, "This API key has been revoked");
  const role = k.userId === null ? "member" : k.role;
  if (role === null) return unauthorized(reply, "Not a member");
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

app.listen({ host: "127.0.0.1", port: 0 }).then((address) => console.log(`peer listening on ${address}`));
