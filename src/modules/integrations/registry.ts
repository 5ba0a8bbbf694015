// Every integration provider, one line each (github acts with the github connector's token).
import type { Mail } from "../signin/mailer";
import type { IntegrationProvider } from "./provider";
import { createEmailProvider } from "./providers/email";
import { slackProvider } from "./providers/slack";
import { createWebhookProvider } from "./providers/webhook";
import { createGithubIntegration } from "./providers/github";
import type { ConnectionStore } from "../connections/store";

export interface RegistryDeps {
  integrationSignatureFor(workspaceId: number, body: string): Promise<string>;
  allowPrivate: boolean;
  sendMail: ((mail: Mail) => Promise<void>) | null;
  memberEmails(workspaceId: number): Promise<string[]>;
  connections: ConnectionStore;
}

export function createIntegrationRegistry(d: RegistryDeps): Map<string, IntegrationProvider> {
  const providers: IntegrationProvider[] = [
    slackProvider,
    createEmailProvider({ send: d.sendMail, memberEmails: d.memberEmails }),
    createWebhookProvider({ integrationSignatureFor: d.integrationSignatureFor, allowPrivate: d.allowPrivate }),
    createGithubIntegration(d.connections),
  ];
  return new Map(providers.map((p) => [p.id, p]));
}
