// Every service, built once over the store: REST routes, MCP tools, jobs and the CLI call these.
import type { Config } from "./config";
import type { Store } from "./store/db";
import { createUsersService } from "./modules/users/service";
import { createProfileService } from "./modules/profile/service";
import { createWorkspacesService, type KeyCache } from "./modules/workspaces/service";
import { createApiKeysService } from "./modules/api-keys/service";
import { createAuditLogsService } from "./modules/audit-logs/service";
import { createMemoryService } from "./modules/memory/service";

export function createServices(store: Store, _config: Config, keyCache: KeyCache) {
  const users = createUsersService(store);
  return {
    users,
    profile: createProfileService(store),
    workspaces: createWorkspacesService(store, keyCache, users),
    apiKeys: createApiKeysService(store, keyCache),
    auditLogs: createAuditLogsService(store),
    memory: createMemoryService(store),
  };
}

export type Services = ReturnType<typeof createServices>;
