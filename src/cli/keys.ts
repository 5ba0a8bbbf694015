// `clanker keys list` (every key's metadata, never the key) and `clanker keys revoke ID` (through the API's service).
import { asc, eq } from "drizzle-orm";
import type { Store } from "../store/db";
import { apiKeys, users, workspaces } from "../store/schema";
import { apiKeyView, createApiKeysService } from "../modules/api-keys/service";
import { systemCtx } from "../lib/context";
import { decodeId } from "../lib/ids";
import { usageError } from "./errors";
import type { Config } from "../config";
import { keysCreateCommand } from "./next-steps";

const when = (iso: string | null) => (iso ? `${iso.slice(0, 16).replace("T", " ")}Z` : "never");

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
}

export async function runKeysList(store: Store, config: Config, flags: { workspace?: string }): Promise<void> {
  const ws = flags.workspace ? (await store.db.select().from(workspaces).where(eq(workspaces.slug, flags.workspace)))[0] : undefined;
  if (flags.workspace && !ws) usageError(`no workspace with slug '${flags.workspace}' in this data dir; leave out --workspace to list every key`);
  const rows = await store.db
    .select({ key: apiKeys, slug: workspaces.slug, email: users.email, name: users.name })
    .from(apiKeys)
    .innerJoin(workspaces, eq(workspaces.id, apiKeys.workspaceId))
    .leftJoin(users, eq(users.id, apiKeys.userId))
    .where(ws ? eq(apiKeys.workspaceId, ws.id) : undefined)
    .orderBy(asc(apiKeys.id));
  if (rows.length === 0) {
    console.log(`No API keys${ws ? ` in ${ws.slug}` : ""}. Create one with: ${keysCreateCommand(config)}`);
    return;
  }
  const lines = [["ID", "NAME", "KEY", "WORKSPACE", "USER", "CREATED", "LAST USED", "STATUS"]];
  for (const { key, slug, email, name } of rows) {
    const v = apiKeyView(key, name === null ? null : { name, email });
    lines.push([v.id, v.name, `${v.prefix}…${v.last4}`, slug, email ?? (key.userId === null ? "(agent)" : "(owner)"), when(v.createdAt), when(v.lastUsedAt), v.status]);
  }
  for (const line of table(lines)) console.log(line);
}

export async function runKeysRevoke(store: Store, ref: string): Promise<void> {
  const id = decodeId("apiKey", ref);
  if (id === null) usageError(`'${ref}' is not an API key id (like key_12)`, "clanker keys list");
  const [row] = await store.db.select().from(apiKeys).where(eq(apiKeys.id, id));
  if (!row) usageError(`no API key ${ref}`, "clanker keys list");
  if (row.revokedAt !== null) {
    console.log(`API key key_${row.id} (${row.name}) was already revoked`);
    return;
  }
  // The service the API uses: the revocation and its audit row commit together. The running server has its own
  // key cache (5 s), so there is nothing to forget in this process.
  const view = await createApiKeysService(store, { forgetKey: () => {} }).revoke(systemCtx(row.workspaceId, "cli"), ref);
  console.log(`Revoked API key ${view.id} (${view.name}); a running server refuses it within 5 seconds`);
}
