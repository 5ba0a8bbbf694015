// The connectors this server knows: adding one is a provider file and a line here.
import type { ConnectorProvider } from "./provider";
import { githubProvider } from "./providers/github";
import { localProvider } from "./providers/local";
import { remoteProvider } from "./providers/remote";

export function createConnectorRegistry(providers: ConnectorProvider[] = [githubProvider, localProvider, remoteProvider]) {
  const byId = new Map(providers.map((p) => [p.id, p]));
  return {
    get: (id: string) => byId.get(id),
    all: () => [...byId.values()],
  };
}

export type ConnectorRegistry = ReturnType<typeof createConnectorRegistry>;
