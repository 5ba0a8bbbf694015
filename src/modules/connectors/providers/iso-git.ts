// isomorphic-git, loaded on the first git operation rather than at start-up (`clanker mcp` rarely needs it).
let loaded: Promise<typeof import("isomorphic-git").default> | undefined;

export function isoGit(): Promise<typeof import("isomorphic-git").default> {
  loaded ??= import("isomorphic-git").then((m) => m.default);
  return loaded;
}
