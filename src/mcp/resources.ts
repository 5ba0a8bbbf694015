// MCP resources, listed per caller's workspace: each skill's SKILL.md (clanker://skills/{slug}), the workspace
// memory (clanker://memory, subscribable), artifacts (clanker://artifacts/{id}) and workflow definitions
// (clanker://workflows/{id}).
import { ErrorCode, ListResourcesRequestSchema, type Resource } from "@modelcontextprotocol/sdk/types.js";
import { rpcError } from "./result";
import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ApiError } from "../lib/errors";
import { decodeId } from "../lib/ids";
import { parsePage } from "../lib/page-params";
import type { Skill } from "../modules/skills/catalog";
import type { ToolContext } from "./server";

export const MEMORY_URI = "clanker://memory";
export const artifactUri = (id: string) => `clanker://artifacts/${id}`;
export const isTextMedia = (mediaType: string) => /^(text\/|application\/(json|xml|yaml|sql)|image\/svg)/.test(mediaType);

/** Resource templates and what their variables complete to; the completion handler reads this too. */
export const TEMPLATES = { skill: "clanker://skills/{slug}", artifact: "clanker://artifacts/{id}", workflow: "clanker://workflows/{id}" } as const;
/** Artifacts on one page of resources/list. */
const LIST_LIMIT = 100;
const INLINE_LIMIT = 1024 * 1024;
/** The MCP spec's "resource not found" code. */
const RESOURCE_NOT_FOUND = -32002;

const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? "") : (v ?? ""));

/** A service failure as a JSON-RPC error: resources/read has no isError result. */
async function reading<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) throw rpcError(e.type === "not_found_error" ? RESOURCE_NOT_FOUND : ErrorCode.InvalidParams, e.message);
    throw e;
  }
}

/** A skill's SKILL.md as the catalog knows it: YAML frontmatter, then its instructions. */
export async function skillMarkdown(s: Skill): Promise<string> {
  const { stringify } = await import("yaml"); // only when a client reads one
  const front: Record<string, unknown> = { name: s.slug, description: s.description, category: s.category };
  if (s.license) front.license = s.license;
  if (s.compatibility) front.compatibility = s.compatibility;
  if (s.parameters.length) front.parameters = s.parameters;
  if (Object.keys(s.metadata).length) front.metadata = s.metadata;
  return `---\n${stringify(front).trimEnd()}\n---\n\n${s.instructions}\n`;
}

/**
 * What a template lists, or nothing when the caller may not see it (an unclaimed agent without the scope): the
 * SDK merges every template's list into one resources/list, which one refusal would fail as a whole.
 */
export async function visible<T>(list: () => Promise<T[]>): Promise<T[]> {
  try {
    return await list();
  } catch (e) {
    if (e instanceof ApiError && e.type === "permission_error") return [];
    throw e;
  }
}

const ARTIFACT = { title: "Artifact", description: "A file a skill run produced (resources/list pages them, newest first)" };

type ListHandler = (request: unknown, extra: unknown) => Promise<{ resources: Resource[] }>;

/**
 * resources/list in pages (MCP's cursor and nextCursor): the first page holds the skills, the memory, the workflows
 * and the newest 100 artifacts, each later page the next 100 artifacts. The SDK lists every template whole from a
 * callback that never sees the cursor, so only the newest 100 artifacts were ever listed.
 */
function pageResourceList(server: McpServer, { services, ctxOf }: ToolContext): void {
  const rest = (server.server as unknown as { _requestHandlers: Map<string, ListHandler> })._requestHandlers.get("resources/list")!;
  server.server.setRequestHandler(ListResourcesRequestSchema, async (request, extra) => {
    const cursor = request.params?.cursor;
    if (cursor !== undefined && decodeId("artifact", cursor) === null)
      throw rpcError(ErrorCode.InvalidParams, `Invalid cursor '${cursor}': pass the nextCursor of the previous resources/list page`);
    const [{ rows, hasMore } = { rows: [], hasMore: false }] = await visible(async () => [await services.artifacts.list(await ctxOf(extra), parsePage({ limit: LIST_LIMIT, after_id: cursor }, "artifact"))]);
    const artifacts: Resource[] = rows.map((a) => ({ ...ARTIFACT, uri: artifactUri(a.id), name: a.name, description: `${a.skillSlug ?? "artifact"} · ${a.createdAt}`, mimeType: a.mediaType, size: a.size }));
    const resources = cursor === undefined ? [...(await rest(request, extra)).resources, ...artifacts] : artifacts;
    return hasMore ? { resources, nextCursor: rows[rows.length - 1]!.id } : { resources };
  });
}

export function registerResources(server: McpServer, tc: ToolContext): void {
  const { services, ctxOf } = tc;
  const catalog = () => services.marketplace.all();

  server.registerResource(
    "skill",
    new ResourceTemplate(TEMPLATES.skill, {
      list: () => ({
        resources: catalog().map((s) => ({ uri: `clanker://skills/${s.slug}`, name: s.slug, title: s.name, description: s.description, mimeType: "text/markdown" })),
      }),
      complete: { slug: (value) => catalog().map((s) => s.slug).filter((slug) => slug.startsWith(value)) },
    }),
    { title: "Skill (SKILL.md)", description: "A catalog skill's SKILL.md: frontmatter (parameters) and instructions", mimeType: "text/markdown" },
    (uri, vars) => reading(async () => ({ contents: [{ uri: uri.href, mimeType: "text/markdown", text: await skillMarkdown(services.marketplace.get(one(vars.slug))) }] })),
  );

  server.registerResource(
    "memory",
    MEMORY_URI,
    { title: "Workspace memory", description: "The workspace's shared memory.md; subscribe to hear of every write (REST or MCP)", mimeType: "text/markdown" },
    (uri, extra) =>
      reading(async () => {
        const doc = await services.memory.read(await ctxOf(extra));
        return { contents: [{ uri: uri.href, mimeType: "text/markdown", text: doc.content, _meta: { version: doc.version, updatedAt: doc.updatedAt } }] };
      }),
  );

  server.registerResource(
    "artifact",
    // Listed by pageResourceList, which sees the cursor (a template's list callback does not).
    new ResourceTemplate(TEMPLATES.artifact, { list: undefined, complete: { id: () => [] } }), // ids complete by workspace: the completion handler knows the caller
    ARTIFACT,
    (uri, vars, extra) =>
      reading(async () => {
        const ctx = await ctxOf(extra);
        const f = await services.artifacts.file(ctx, one(vars.id));
        if (f.size > INLINE_LIMIT) throw rpcError(ErrorCode.InvalidParams, `Artifact is ${f.size} bytes; download it over HTTP (over 1 MiB)`);
        const bytes = f.bytes;
        return {
          contents: [isTextMedia(f.mediaType) ? { uri: uri.href, mimeType: f.mediaType, text: bytes.toString("utf8") } : { uri: uri.href, mimeType: f.mediaType, blob: bytes.toString("base64") }],
        };
      }),
  );

  server.registerResource(
    "workflow",
    new ResourceTemplate(TEMPLATES.workflow, {
      list: async (extra) => ({
        resources: await visible(async () =>
          (await services.workflows.definitions(await ctxOf(extra))).data.map((d) => ({ uri: `clanker://workflows/${d.id}`, name: d.id, title: d.name, description: d.description, mimeType: "application/json" })),
        ),
      }),
      complete: { id: () => [] },
    }),
    { title: "Workflow definition", description: "A workflow definition start-workflow runs (bundled or the workspace's own)", mimeType: "application/json" },
    (uri, vars, extra) =>
      reading(async () => {
        const def = (await services.workflows.definitions(await ctxOf(extra))).data.find((d) => d.id === one(vars.id));
        if (!def) throw rpcError(RESOURCE_NOT_FOUND, `No workflow found with id '${one(vars.id)}'`);
        return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(def, null, 2) }] };
      }),
  );
  pageResourceList(server, tc);
}
