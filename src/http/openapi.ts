// The OpenAPI 3.1 document: the route schemas (through @elysiajs/openapi) plus what the plugin cannot see on its
// own — JSON bodies behind our parser, the shared Error responses, security schemes, examples and servers.
import { toOpenAPISchema } from "@elysiajs/openapi";
import { answerHeaders, REQUEST_HEADERS, RESPONSE_HEADERS, requestHeaderRefs } from "./openapi-headers";
import { OptionalKind } from "@sinclair/typebox";
import { STATUS_OF, type ErrorType } from "../lib/errors";
import { isBodyParser } from "./platform";

export const OPENAPI_VERSION = "3.1.0";

type Json = Record<string, any>;
type Route = { method: string; path: string; hooks?: Json };
type RoutedApp = { getGlobalRoutes(): Route[]; getGlobalDefinitions?(): { type: Json } };

const ERROR_TYPES = Object.keys(STATUS_OF) as ErrorType[];

/** One response component per status we answer with the error envelope, all over the one Error schema. */
const ERROR_RESPONSES: Record<number, [name: string, description: string]> = {
  400: ["BadRequest", "Invalid request: a malformed body, a bad parameter (named in `error.param`) or a bad header"],
  401: ["Unauthorized", "Missing or invalid credentials"],
  402: ["PaymentRequired", "Not enough credits"],
  403: ["Forbidden", "The caller's role or key scopes do not allow this"],
  404: ["NotFound", "No such resource in this workspace (another workspace's resource is a 404 too)"],
  409: ["Conflict", "Conflicts with the resource's state, or the idempotency key is in flight"],
  412: ["PreconditionFailed", "The document changed since the version named in If-Match"],
  413: ["PayloadTooLarge", "The body is over the size limit or nested too deeply"],
  429: ["TooManyRequests", "Rate limited: wait `retry-after` seconds"],
  500: ["InternalError", "Unexpected server error"],
  503: ["Overloaded", "An upstream service (GitHub, an integration) is unreachable: retry later"],
};

/** The credentials every authenticated route takes (any one of them). */
export const SECURITY_SCHEMES = {
  apiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "An API key, made with `clanker keys create` (from a source checkout: `npx bun src/main.ts keys create`)" },
  bearer: { type: "http", scheme: "bearer", description: "The same API key as `Authorization: Bearer <key>` (what MCP clients send)" },
  session: { type: "apiKey", in: "header", name: "x-auth-token", description: "A session token from /api/v1/auth/email/verify; pick the workspace with x-workspace-id" },
  cookie: { type: "apiKey", in: "cookie", name: "clanker_session", description: "The web app's session cookie (mutations must come from this origin)" },
  queryKey: { type: "apiKey", in: "query", name: "apiKey", description: "An API key in the URL: only on /api/events, since EventSource cannot send headers" },
} as const;

const AUTHENTICATED = [{ apiKey: [] }, { bearer: [] }, { session: [] }, { cookie: [] }];

const TAG_DESCRIPTIONS: Record<string, string> = {
  Executions: "Run a skill and follow its execution: status, output, cancel, rerun",
  Marketplace: "The skill catalog: browse and read skills (public)",
  Skills: "The skills installed in this workspace and their secrets",
  Workflows: "Multi-step workflows: definitions, launch, stream, runs, resume",
  "API keys": "Keys for programs and agents: created once, shown once",
  Events: "Server-sent events for executions and workflow runs",
  Artifacts: "Files that runs produced",
  Memory: "The workspace's shared memory document",
  Secrets: "Encrypted values that skills and integrations use",
  BYOK: "Bring your own model provider key",
  Billing: "Credits and their transactions",
  Webhooks: "The secret that signs completion callbacks",
  Triggers: "Inbound webhooks and schedules that start workflows",
  Integrations: "Third-party services that workflows act on",
  Connectors: "Sources (GitHub, local folders, git remotes) a run can read",
  "Sign-in": "Email codes and sessions for people",
  "Device activation": "Approve a device or CLI from the browser",
  "Agent auth": "Self-registration for agents (auth.md) and claiming them",
  Workspaces: "Workspaces, members and invitations",
  Profile: "The signed-in person",
  "Audit logs": "Who changed what, when",
  MCP: "The Model Context Protocol endpoint for agents",
  System: "Liveness",
};

/** Request and response examples for the calls a newcomer makes first. */
const EXAMPLES: Record<string, { request?: unknown; response?: unknown }> = {
  "post /api/v1/skills/{slug}/run": {
    request: { input: "Summarise this release note in three bullet points: …" },
    response: { executionId: "exec_42", skillName: "Summarizer", status: "started", message: "Execution started. Poll status or connect to SSE for real-time updates.", sseUrl: "/api/events" },
  },
  "post /api/v1/api-keys": {
    request: { name: "ci" },
    response: { id: "key_9", name: "ci", prefix: "ck_live", last4: "a1b2", workspaceId: "ws_1", userId: "usr_1", status: "active", createdAt: "2026-01-01T00:00:00.000Z", lastUsedAt: null, revokedAt: null, owner: { name: "Ada", email: "ada@example.com" }, key: "ck_live_…" },
  },
  "post /api/v1/workflows/{id}/launch": {
    request: { inputData: { code: "function add(a, b) { return a - b }", doc: "add returns the sum" } },
    response: {
      id: "run_1", runId: "run_1", workflowId: "parallel-review", status: "running",
      input: { code: "function add(a, b) { return a - b }", doc: "add returns the sum" },
      steps: {}, suspendedStep: null, error: null, cost: 0, trigger: "api", startedBy: { userId: "usr_1", apiKeyId: "key_9" }, callbackUrl: null,
      createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z", completedAt: null,
    },
  },
};

/**
 * Routes as the plugin should see them: our parser (a function, which the plugin skips, leaving `content: {}`)
 * reads JSON, so it is named "json" here. The server's parsing and its limits are untouched.
 */
function routesSeenAsJson(app: RoutedApp): Route[] {
  return app.getGlobalRoutes().map((r) => {
    const parse = r.hooks?.parse as { fn: unknown }[] | undefined;
    if (!parse?.some((p) => isBodyParser(p.fn))) return r;
    return { ...r, hooks: { ...r.hooks, parse: parse.map((p) => (isBodyParser(p.fn) ? { ...p, fn: "json" } : p)) } };
  });
}

const operationKey = (method: string, path: string) => `${method.toLowerCase()} ${path.replace(/:([^/]+)/g, "{$1}")}`;

/** The document without `servers` (those depend on the request); built once per app. */
export function buildOpenApi(elysia: unknown, info: { version: string }): Json {
  // getGlobalRoutes is protected in Elysia's types, public at run time (the plugin calls it the same way).
  const app = elysia as RoutedApp;
  const routes = routesSeenAsJson(app);
  const optionalBodies = new Set(routes.filter((r) => r.hooks?.body?.[OptionalKind] === "Optional").map((r) => operationKey(r.method, r.path)));
  const view: RoutedApp = { getGlobalRoutes: () => routes, getGlobalDefinitions: app.getGlobalDefinitions?.bind(app) };
  const { paths, components } = toOpenAPISchema(view as unknown as Parameters<typeof toOpenAPISchema>[0], undefined, undefined, undefined, OPENAPI_VERSION);
  stripNullable(paths);
  stripNullable(components);
  const used = new Set<number>();
  const tags = new Set<string>();
  for (const [path, item] of Object.entries(paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      const key = `${method} ${path}`;
      for (const t of op.tags ?? []) tags.add(t);
      if (op.requestBody && optionalBodies.has(key)) op.requestBody.required = false;
      if (op.requestBody && !op.requestBody.description) delete op.requestBody.description;
      if (path === "/api/events") op.security = [{ queryKey: [] }, ...AUTHENTICATED];
      op.responses ??= {};
      if (!Object.keys(op.responses).some((s) => s.startsWith("2"))) op.responses["200"] = { description: op.summary ?? "OK" };
      for (const status of errorStatuses(path, method, op)) {
        used.add(status);
        op.responses[status] ??= { $ref: `#/components/responses/${ERROR_RESPONSES[status]![0]}` };
      }
      // The OAuth callbacks answer a browser: a page, refusals included (connections/callback-routes.ts); only what
      // is refused before the route runs (a malformed path, a rate limit) is the JSON envelope.
      if (path.endsWith("/callback"))
        for (const [status, response] of Object.entries(op.responses as Json)) {
          const description = status.startsWith("2") ? op.summary : (ERROR_RESPONSES[Number(status)]?.[1] ?? response.description);
          op.responses[status] = { description, content: { "text/html": { schema: { type: "string" } }, ...(status.startsWith("2") ? {} : { "application/json": { schema: { $ref: "#/components/schemas/Error" } } }) } };
        }
      if (path === "/mcp" || path.startsWith("/mcp/"))
        for (const [status, description] of Object.entries(MCP_TRANSPORT))
          op.responses[status] = { description, content: { "application/json": { schema: { anyOf: [{ $ref: "#/components/schemas/Error" }, { $ref: "#/components/schemas/JsonRpcError" }] } } } };
      addExamples(op, EXAMPLES[key]);
      if (IDEMPOTENT.test(key)) op.parameters = [...(op.parameters ?? []), IDEMPOTENCY_KEY];
      if (path.startsWith("/api/v1/")) {
        op.parameters = [...(op.parameters ?? []), ...requestHeaderRefs()];
        // An error's shared component carries its headers once (below); an operation's own answers, here.
        for (const [status, response] of Object.entries(op.responses as Json))
          if (!response.$ref) response.headers = { ...answerHeaders(status, IDEMPOTENT.test(key)), ...response.headers };
      }
      if (ETAGGED.test(key)) {
        if (method !== "get") op.parameters = [...(op.parameters ?? []), IF_MATCH];
        const ok = op.responses["200"];
        if (ok && !ok.$ref) ok.headers = { ...ok.headers, ETag: ETAG_HEADER };
      }
    }
  }
  const responses = Object.fromEntries(
    [...used].sort().map((s) => {
      const [name, description] = ERROR_RESPONSES[s]!;
      return [name, { description, headers: answerHeaders(String(s), false), content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }];
    }),
  );
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "Clanker API",
      version: info.version,
      description: INTRO,
    },
    tags: [...tags].sort().map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name })),
    security: AUTHENTICATED,
    paths,
    components: {
      ...components,
      schemas: { ...(components as Json).schemas, Error: ERROR_SCHEMA, JsonRpcError: JSON_RPC_ERROR_SCHEMA },
      responses,
      headers: RESPONSE_HEADERS,
      parameters: { ...(components as Json).parameters, ...REQUEST_HEADERS },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

/**
 * Elysia's t.Nullable leaves a 3.0 `nullable: true` beside the 3.1 `type: [..., "null"]`; 3.1 has no such keyword,
 * so it goes (folded into the type where the plugin did not already).
 */
function stripNullable(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(stripNullable);
  if (!node || typeof node !== "object") return;
  const o = node as Json;
  if (typeof o.nullable === "boolean") {
    if (o.nullable && typeof o.type === "string") o.type = [o.type, "null"];
    else if (o.nullable && Array.isArray(o.anyOf) && !o.anyOf.some((s: Json) => s?.type === "null")) o.anyOf.push({ type: "null" });
    delete o.nullable;
  }
  for (const v of Object.values(o)) stripNullable(v);
}

/**
 * The error answers an operation can give. Any route: a bad header (400), a foreign Host or Origin (403), the
 * rate limit (429), the unexpected (500); authenticated ones 401. An id in the path, the body or x-workspace-id
 * may name nothing (404); a mutation may conflict or meet its idempotency key in flight (409) and carries a body (413). The rest
 * by what a service throws: credits (402), the memory's If-Match (412), an upstream that is down (503).
 */
function errorStatuses(path: string, method: string, op: Json): number[] {
  const isPublic = Array.isArray(op.security) && op.security.length === 0;
  const out = [400, 403, 429, 500];
  if (!isPublic) out.push(401);
  // A session's x-workspace-id may name a workspace the person is not in: 404, like any id.
  if (!isPublic || path.includes("{") || method !== "get") out.push(404);
  if (method !== "get") out.push(409, 413);
  for (const [re, statuses] of SERVICE_ERRORS) if (re.test(`${method} ${path}`)) out.push(...statuses);
  return [...new Set(out)].sort();
}

const SERVICE_ERRORS: [RegExp, number[]][] = [
  [/^post \/api\/v1\/(skills\/\{slug\}\/run|executions\/\{id\}\/rerun)$/, [402]],
  [/^(put|post) \/api\/v1\/memory/, [412]],
  [/^\w+ \/api\/v1\/(integrations|connectors)\//, [503]],
  // Signed with the trigger's secret, not a credential: a missing or wrong signature is a 401.
  [/^post \/hooks\//, [401]],
];

/** The MCP transport's own refusals (the SDK's): a JSON-RPC error, since MCP clients read that shape there. */
const MCP_TRANSPORT: Record<number, string> = {
  400: "Not an MCP request (or no session yet), or the caller's credentials were refused before MCP",
  404: "Unknown MCP session",
  405: "Method not allowed on this MCP endpoint",
  406: "The client must accept application/json and text/event-stream",
  415: "The body must be application/json",
};

function addExamples(op: Json, ex: { request?: unknown; response?: unknown } | undefined): void {
  if (!ex) return;
  const body = op.requestBody?.content?.["application/json"];
  if (body && ex.request !== undefined) body.example = ex.request;
  if (ex.response === undefined) return;
  // A route without a response schema still shows what it answers.
  const ok = op.responses["200"];
  ok.content ??= { "application/json": { schema: { type: "object" } } };
  ok.content["application/json"].example = ex.response;
}

/** The mutations that take an `idempotency-key` (those whose route runs under idempotent()). */
const IDEMPOTENT = /^post \/api\/v1\/(workspaces|secrets|api-keys|skills\/\{slug\}\/run|executions\/\{id\}\/rerun|memory\/append|workflows\/\{id\}\/(launch|stream)|integrations\/\{integration\}\/actions\/\{action\})$/;

const IDEMPOTENCY_KEY = {
  name: "idempotency-key",
  in: "header",
  required: false,
  description: "Retry safely: within 24 h the same key answers the first answer again (with `idempotency-replayed: true`) and changes nothing",
  schema: { type: "string", maxLength: 255 },
};

/** Working memory answers its version as an ETag; its writes take If-Match. */
const ETAGGED = /^(get|put) \/api\/v1\/memory$|^post \/api\/v1\/memory\/append$/;

const IF_MATCH = {
  name: "If-Match",
  in: "header",
  required: false,
  description: "Write only onto this version (the ETag you read; strong comparison, `*` for any): otherwise 412 ETAG_MISMATCH",
  schema: { type: "string", maxLength: 1000 },
};

const ETAG_HEADER = { description: "The memory's version, for the next write's If-Match", schema: { type: "string", example: '"v7"' } };

/** The document for one request: `servers` is this server's public URL. */
export function withServers(doc: Json, base: string): Json {
  return { openapi: doc.openapi, info: doc.info, servers: [{ url: base, description: "This server" }], ...doc };
}

const ERROR_SCHEMA = {
  type: "object",
  description: "Every failure answers this envelope; one HTTP status per `type`.",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["type", "message"],
      properties: {
        type: { type: "string", enum: ERROR_TYPES },
        message: { type: "string", description: "For a person: what went wrong and what to do" },
        code: { type: "string", description: "A stable machine-readable code (e.g. IDEMPOTENCY_KEY_REUSED)" },
        param: { type: "string", description: "The parameter, header or body field at fault" },
      },
    },
  },
  example: { error: { type: "invalid_request_error", message: "Invalid body parameter 'input': Expected string", param: "input" } },
};

const JSON_RPC_ERROR_SCHEMA = {
  type: "object",
  description: "A JSON-RPC 2.0 error: what the MCP transport answers when it refuses a request",
  required: ["jsonrpc", "error"],
  properties: {
    jsonrpc: { const: "2.0" },
    id: { type: ["string", "integer", "null"] },
    error: { type: "object", required: ["code", "message"], properties: { code: { type: "integer" }, message: { type: "string" } } },
  },
};

const INTRO = `The Clanker API v1, served by this self-hosted server.

**Authenticate** with an API key in \`x-api-key\` (or \`Authorization: Bearer\`). Create one on the server with
\`clanker keys create --name "my key" --email you@example.com\` (from a source checkout:
\`npx bun src/main.ts keys create …\`), then paste it under Authentication here to try any call.

**Run a skill**: \`POST /api/v1/skills/{slug}/run\` with \`{"input": "…"}\` answers at once with an \`executionId\`;
follow it with \`GET /api/v1/executions/{id}/status\` or the \`/api/events\` stream. Browse skills with
\`GET /api/v1/marketplace/skills\` (no key needed).

Every error is \`{"error": {"type", "message", "code"?, "param"?}}\`. Lists are paginated with \`limit\`,
\`after_id\` and \`before_id\` and answer \`{data, first_id, last_id, has_more}\`. Mutations take an
\`idempotency-key\` header.`;
