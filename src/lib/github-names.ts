// What a GitHub `owner/repo` may look like. Names of only dots are refused: a URL parser would resolve
// "/repos/../../issues" to another API path, sending the workspace's token where no one asked.
export const REPO_PATTERN = "^(?!\\.{1,2}/)[A-Za-z0-9_.-]{1,100}/(?!\\.{1,2}$)[A-Za-z0-9_.-]{1,100}$";

const REPO_RE = new RegExp(REPO_PATTERN);

export const isRepoName = (s: unknown): s is string => typeof s === "string" && REPO_RE.test(s);
