// Every service, built once over the store: REST routes, MCP tools, jobs and the CLI call these.
import type { Config } from "./config";
import { isLoopback } from "./config-values";
import type { Store } from "./store/db";
import type { SecretBox } from "./lib/secret-box";
import { guardServices } from "./lib/scopes";
import { createConnectionStore } from "./modules/connections/store";
import { createOAuthStates } from "./modules/connections/oauth-states";
import { createOAuthFlow } from "./modules/connections/oauth-flow";
import { createIntegrationsService, memberEmailsOf } from "./modules/integrations/service";
import { createIntegrationRegistry } from "./modules/integrations/registry";
import { createConnectorsService } from "./modules/connectors/service";
import { createConnectorRegistry } from "./modules/connectors/registry";
import type { Catalog } from "./modules/skills/catalog";
import { createUsersService } from "./modules/users/service";
import { createProfileService, type UserCache } from "./modules/profile/service";
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
import { runningServerUrl } from "./store/data-lock";
import { createExecutionsService } from "./modules/executions/service";
import { Runner } from "./modules/executions/runner";
import { EventBus } from "./modules/events/bus";
import { createMailer } from "./modules/signin/mailer";
import { createOtpService } from "./modules/signin/otp";
import { createSigninService } from "./modules/signin/service";
import { createDeviceService } from "./modules/signin/device";
import { createOAuthService } from "./modules/signin/oauth";
import { createAgentsService } from "./modules/signin/agents";
import { createInvitationsService } from "./modules/workspaces/invitations";
import { createMembersService } from "./modules/workspaces/members";
import { createWorkflowsService } from "./modules/workflows/service";
import { WorkflowEngine } from "./modules/workflows/engine";
import { WorkflowTriggers } from "./modules/workflows/triggers";
import { createEventTriggerStore } from "./modules/triggers/store";
import { createTriggersService } from "./modules/triggers/service";
import { createLoopMarks } from "./modules/workflows/loop-mark";
import type { Log } from "./lib/log";
import { memoryState, type SharedState } from "./shared";
import { ListChanges } from "./modules/events/list-changes";

export interface ServiceDeps {
  store: Store;
  config: Config;
  keyCache: KeyCache & UserCache & { forgetAll(): void; sessionEnded(): void };
  catalog: Catalog;
  box: SecretBox;
  log: Log;
  /** For `clanker mcp` beside a server: see Runner. */
  ownRunsOnly?: boolean;
  /** What replicas share (src/shared); this process's memory when left out. */
  shared?: SharedState;
}

export function createServices({ store, config, keyCache, catalog, box, log, ownRunsOnly, shared = memoryState(log) }: ServiceDeps) {
  // Only Redis has other replicas to tell: in memory, events and schedule changes stay plain calls.
  const replicas = shared.kind === "redis" ? shared.fanout : null;
  const users = createUsersService(store);
  const bus = new EventBus(store, replicas);
  const listChanges = new ListChanges(store, bus, replicas);
  const billing = createBillingService(store, config.billing);
  const byok = createByokService(store, box);
  const artifacts = createArtifactsService(store, config.dataDir, listChanges);
  const webhooks = createWebhooksService(store, box, config.webhooks, log, () => !ownRunsOnly || store.dialect === "postgres" || runningServerUrl(config.dataDir) === null);
  // Shared by the connectors and integrations services: sealed connection rows and OAuth web-flow states.
  const connectionStore = createConnectionStore(store, box);
  const oauthStates = createOAuthStates(store);
  const oauthFlow = createOAuthFlow({ store, oauthStates, connections: connectionStore });
  const connectors = createConnectorsService({ store, config, connections: connectionStore, oauthStates, oauthFlow, registry: createConnectorRegistry() });
  const mailer = createMailer(config.signin, config.dataDir, log, store);
  const loopMarks = createLoopMarks(box);
  const integrations = createIntegrationsService({
    store,
    loopMarks,
    config,
    connectionStore,
    oauthStates,
    oauthFlow,
    providers: createIntegrationRegistry({
      integrationSignatureFor: webhooks.integrationSignatureFor,
      allowPrivate: config.webhooks.allowPrivate,
      // Only real SMTP: the outbox fallback is for sign-in codes on a lone laptop, not mail a workflow sends.
      sendMail: config.signin.smtpUrl ? (m) => mailer.send(m) : null,
      memberEmails: (ws) => memberEmailsOf(store, ws),
      connections: connectionStore,
    }),
  });
  const otp = createOtpService(store, box);
  const workspacesService = createWorkspacesService(store, keyCache);
  const secrets = createSecretsService(store, box);
  const runner = new Runner({ store, config, bus, billing, artifacts, webhooks, byok, secrets, catalog, log, ownOnly: ownRunsOnly, sourceContext: (ws, c) => connectors.sourceContext(ws, c), fanout: replicas });
  const executions = createExecutionsService({ store, config, catalog, billing, byok, secrets, bus, artifacts, webhooks, runner, connectors });
  // The engine needs definitions from the service and the service starts runs on the engine.
  let engine: WorkflowEngine;
  let triggers: WorkflowTriggers;
  const eventTriggers = createEventTriggerStore(store, box);
  const workflows = createWorkflowsService({ store, catalog, webhooks, executions, eventTriggers, integrations, listChanges, cronMinIntervalSeconds: config.cronMinIntervalSeconds }, () => engine, () => triggers.changed());
  engine = new WorkflowEngine({ store, bus, executions, webhooks, integrations, definitionOf: workflows.definitionOf, log });
  triggers = new WorkflowTriggers(workflows, log, { lock: shared.lock, fanout: replicas }, config.cronMinIntervalSeconds);
  // Other services hold the unguarded objects (their internal calls are not the caller's); callers get guarded ones.
  return guardServices({
    users,
    profile: createProfileService(store, keyCache),
    workspaces: workspacesService,
    apiKeys: createApiKeysService(store, keyCache),
    auditLogs: createAuditLogsService(store),
    memory: createMemoryService(store, bus),
    marketplace: createMarketplaceService(catalog),
    skills: createSkillsService(store, catalog),
    secrets,
    byok,
    billing,
    artifacts,
    webhooks,
    oauthStates,
    integrations,
    connectors,
    bus,
    listChanges,
    runner,
    otp,
    signin: createSigninService(store, users, otp, mailer, isLoopback(config.host), keyCache),
    device: createDeviceService(store, box, billing, config.signin.devicePollIntervalSeconds),
    oauth: createOAuthService(store, box, keyCache),
    agents: createAgentsService({
      store,
      users,
      otp,
      mailer,
      billing,
      keyCache,
      anonymousAgents: config.signin.anonymousAgents,
      anonymousGrant: config.signin.anonymousCreditGrant,
    }),
    invitations: createInvitationsService(store, mailer, keyCache, workspacesService.actIn),
    members: createMembersService(store, keyCache, workspacesService.actIn),
    executions,
    workflows,
    workflowEngine: engine,
    workflowTriggers: triggers,
    triggers: createTriggersService({ store, eventTriggers, workflows, loopMarks, lock: shared.lock, cronMinIntervalSeconds: config.cronMinIntervalSeconds }),
  });
}

export type Services = ReturnType<typeof createServices>;
