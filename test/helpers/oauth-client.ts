// An MCP client's side of OAuth with the official SDK: what it keeps (in memory), and its first connect, which
// discovers, registers and stops at the authorization URL a person must open.
import { expect } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";

/** What an MCP client keeps between runs, in memory; "redirecting" records the URL it would open in a browser. */
export class MemoryProvider implements OAuthClientProvider {
  authorizationUrl?: URL;
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier?: string;
  readonly sentState = `state-${crypto.randomUUID()}`;
  constructor(
    readonly redirectUrl: string,
    readonly name = "Test Agent",
  ) {}
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: this.name, redirect_uris: [this.redirectUrl], grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "none" };
  }
  state() {
    return this.sentState;
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(i: OAuthClientInformationMixed) {
    this.info = i;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(t: OAuthTokens) {
    this.saved = t;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier!;
  }
}

/** The SDK's first connect: discovery, registration, and the authorization URL it would open. */
export async function beginAuthorization(baseUrl: string, provider: MemoryProvider): Promise<URL> {
  const c = new Client({ name: "oauth-test", version: "1.0.0" });
  await expect(c.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
  expect(provider.authorizationUrl).toBeDefined();
  return provider.authorizationUrl!;
}
