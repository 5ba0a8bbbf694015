// Every service, built once over the store: REST routes, MCP tools, jobs and the CLI call these.
import type { Store } from "./store/db";
import type { SecretBox } from "./lib/secret-box";
import type { Catalog } from "./modules/skills/catalog";
import { createUsersService } from "./modules/users/service";
import { createProfileService } from "./modules/profile/service";
import { createWorkspacesService, type KeyCache } from "./modules/workspaces/service";
import { createApiKeysService } from "./modules/api-keys/service";
import { createAuditLogsService } from "./modules/audit-logs/service";
import { createMemoryService } from "./modules/memory/service";
import { createMarketplaceService } from "./modules/marketplace/service";
import { createSkillsService } from "./modules/skills/service";
import { createSecretsService } from "./modules/secrets/service";
import { createByokService } from "./modules/byok/service";

export interface ServiceDeps {
  store: Store;
  keyCache: KeyCache;
  catalog: Catalog;
  box: SecretBox;
}

export function createServices({ store, keyCache, catalog, box }: ServiceDeps) {
  const users = createUsersService(store);
  return {
    users,
    profile: createProfileService(store),
    workspaces: createWorkspacesService(store, keyCache, users),
    apiKeys: createApiKeysService(store, keyCache),
    auditLogs: createAuditLogsService(store),
    memory: createMemoryService(store),
    marketplace: createMarketplaceService(catalog),
    skills: createSkillsService(store, catalog),
    secrets: createSecretsService(store, box),
    byok: createByokService(store, box),
  };
}

export type Services = ReturnType<typeof createServices>;
