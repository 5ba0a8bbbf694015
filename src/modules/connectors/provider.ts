// The one interface every connector (a source a skill reads) implements: adding one is a file in providers/
// and a line in the registry. REST routes, MCP tools and runs that read code all go through the service.
import type { Config } from "../../config";

/** What a provider is given to act for one workspace's connection. */
export interface ConnectorContext {
  config: Config;
  /** The connection's decrypted credentials ({token} for github), or null when the connector needs none. */
  credentials: Record<string, string> | null;
  /** The connection's non-secret settings. */
  settings: Record<string, unknown>;
  /** Where the provider may keep a cache (remote clones): a folder under the data dir, owner-only. */
  cacheDir: string;
  /** Whose request this is (null for the server's own, an OAuth exchange): what a shared queue is fair between. */
  workspaceId: number | null;
  /**
   * Whether this workspace may read the server's own folders (CLANKER_LOCAL_SOURCES, and file:// URLs inside them):
   * the operator's to share, so only workspaces the server's owner is a member of. Anyone may sign in and own a
   * workspace; before, every one of them could read the operator's notes.
   */
  readsServerFolders: boolean;
}

export interface Page<T> {
  data: T[];
  /** Opaque cursor of the next page, or null when this is the last one. */
  nextCursor: string | null;
}

export interface Source {
  /** What the other calls take as `source`: `owner/repo` for github, the root's name for local, … */
  id: string;
  name: string;
  description?: string | null;
  defaultBranch?: string | null;
  private?: boolean;
  url?: string | null;
}

export interface Branch {
  name: string;
  sha: string | null;
  default?: boolean;
}

export type SourceContent =
  | { type: "file"; path: string; ref: string | null; size: number; content: string; encoding?: "base64" }
  | { type: "dir"; path: string; ref: string | null; entries: { name: string; type: "file" | "dir" | "symlink" | "submodule"; size: number | null }[] };

export interface ConnectResult {
  /** Store this connection: credentials are sealed, account shown. */
  connected?: {
    account: string | null;
    credentials: Record<string, string> | null;
    settings?: Record<string, unknown>;
    /**
     * For connections that accumulate (remote's added URLs): the settings to store, computed from the row's
     * settings as they are inside the saving transaction, so two concurrent connects both count.
     */
    settingsFrom?: (current: Record<string, unknown>) => Record<string, unknown>;
    /** The source this connect added (remote), shown in the answer and the audit row. */
    source?: Source;
  };
  /** Or send the person to this authorize URL first (OAuth web flow). */
  url?: string;
}

export interface ConnectorProvider {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Whether this server is set up for it (e.g. local needs CLANKER_LOCAL_SOURCES); a reason when not. */
  configured(config: Config): { ok: true } | { ok: false; reason: string };
  /** Serves the server's own folders: only to workspaces that read them (ConnectorContext.readsServerFolders). */
  serverFolders?: boolean;
  /** Whether a workspace must connect before use (local does not: its roots are the operator's). */
  readonly needsConnection: boolean;
  /** `url`: the repository a `remote` connect adds to the workspace's sources. */
  connect(ctx: ConnectorContext, input: { token?: string; url?: string; state?: string; redirectUri?: string }): Promise<ConnectResult>;
  /**
   * OAuth web flow, second half: exchange the callback's code for credentials. Only providers whose connect()
   * can answer a `url` implement it (the service consumes the state first).
   */
  completeOAuth?(ctx: ConnectorContext, input: { code: string; redirectUri: string }): Promise<NonNullable<ConnectResult["connected"]>>;
  /**
   * For connectors whose sources the workspace adds (remote): the settings without `source`, or null when the
   * workspace never added it. Lets one source be removed without disconnecting the rest.
   */
  forgetSource?(settings: Record<string, unknown>, source: string): Record<string, unknown> | null;
  listSources(ctx: ConnectorContext, page: { limit: number; cursor: string | null }): Promise<Page<Source>>;
  listBranches(ctx: ConnectorContext, source: string): Promise<Branch[]>;
  content(ctx: ConnectorContext, source: string, opts: { path: string; ref: string | null; maxBytes: number }): Promise<SourceContent>;
}
