// Every service, built once over the store: REST routes, MCP tools, jobs and the CLI call these.
import type { Config } from "./config";
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
import { createBillingService } from "./modules/billing/service";
import { createArtifactsService } from "./modules/artifacts/service";
import { createWebhooksService } from "./modules/webhooks/service";
import { createExecutionsService } from "./modules/executions/service";
import { Runner } from "./modules/executions/runner";
import { EventBus } from "./modules/events/bus";
import { createMailer } from "./modules/signin/mailer";
import { createOtpService } from "./modules/signin/otp";
import { createSigninService } from "./modules/signin/service";
import { createDeviceService } from "./modules/signin/device";
import { createAgentsService } from "./modules/signin/agents";
import { createInvitationsService } from "./modules/workspaces/invitations";

export interface ServiceDeps {
  store: Store;
  config: Config;
  keyCache: KeyCache & { forgetAll(): void };
  catalog: Catalog;
  box: SecretBox;
  log: (line: string) => void;
  /** For `clanker mcp` beside a server: see Runner. */
  ownRunsOnly?: boolean;
}

export function createServices({ store, config, keyCache, catalog, box, log, ownRunsOnly }: ServiceDeps) {
  const users = createUsersService(store);
  const bus = new EventBus(store);
  const billing = createBillingService(store, config.billing);
  const byok = createByokService(store, box);
  const artifacts = createArtifactsService(store, config.dataDir);
  const webhooks = createWebhooksService(store, box, config.webhooks, log);
  const mailer = createMailer(config.signin, config.dataDir, log);
  const otp = createOtpService(store, box);
  const runner = new Runner({ store, config, bus, billing, artifacts, webhooks, byok, catalog, log, ownOnly: ownRunsOnly });
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
    byok,
    billing,
    artifacts,
    webhooks,
    bus,
    runner,
    otp,
    signin: createSigninService(store, users, otp, mailer),
    device: createDeviceService(store, box, billing, config.signin.devicePollIntervalSeconds),
    agents: createAgentsService({ store, users, otp, mailer, billing, keyCache, anonymousGrant: config.signin.anonymousCreditGrant }),
    invitations: createInvitationsService(store, mailer, keyCache),
    executions: createExecutionsService({ store, config, catalog, billing, byok, bus, artifacts, webhooks, runner }),
  };
}

export type Services = ReturnType<typeof createServices>;
