// The one interface every integration (a service a skill or workflow acts on) implements: adding one is a file
// in providers/ and a line in the registry. REST routes, MCP tools and workflow `action` steps go through the service.
import type { Config } from "../../config";

export interface IntegrationContext {
  config: Config;
  workspaceId: number;
  /** The connection's decrypted credentials, or null when the integration needs none (email). */
  credentials: Record<string, string> | null;
  settings: Record<string, unknown>;
  /** The caller's role: a provider may keep some settings to owners (email's outside recipients). */
  role?: "owner" | "admin" | "member";
  /** For providers with a web flow: where the callback is, and a single-use state for this workspace and caller. */
  oauth?: { redirectUri: string; issueState: () => Promise<string> };
  /** Set when a workflow run acts: the mark to append to an issue it opens (see workflows/loop-mark.ts). */
  loopMark?: (repo: string, title: string) => string;
}

/** An action's input, as JSON Schema (also the MCP tool's documentation of it). */
export interface ActionSpec {
  name: string;
  description: string;
  input: { type: "object"; properties: Record<string, unknown>; required?: string[]; additionalProperties?: boolean };
  /** How a workflow template's values are written into this action's input (markup the service reads in them escaped). */
  escape?: (value: string) => string;
}

export interface IntegrationProvider {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly actions: ActionSpec[];
  configured(config: Config): { ok: true } | { ok: false; reason: string };
  /** The connector whose credentials it acts with (read at each action): without it, it is not connected. */
  readonly actsWithConnector?: string;
  connect(ctx: IntegrationContext, credentials: Record<string, unknown> | undefined): Promise<{
    connected?: { account: string | null; credentials: Record<string, string> | null; settings?: Record<string, unknown> };
    url?: string;
  }>;
  /** The OAuth callback: exchanges the code for credentials (only providers that answer connect with a url). */
  completeOAuth?(ctx: IntegrationContext, code: string): Promise<{ account: string | null; credentials: Record<string, string>; settings?: Record<string, unknown> }>;
  /** Runs an action whose input was already validated against its spec; throws typed errors on the service's failures. */
  execute(ctx: IntegrationContext, action: string, input: Record<string, unknown>): Promise<unknown>;
}
