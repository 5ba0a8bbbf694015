// The `github` integration: create_issue and comment, acting with the github connector's token (read at each
// action, so disconnecting the connector stops the integration too). GitHub's failures become typed errors.
import type { ConnectionStore } from "../../connections/store";
import { InvalidRequestError } from "../../../lib/errors";
import { REPO_PATTERN } from "../../../lib/github-names";
import { integrationAuthFailed, integrationError, integrationRateLimited } from "../errors";
import { githubFailure, octokitFor } from "../../connectors/providers/github";
import type { IntegrationContext, IntegrationProvider } from "../provider";

const repo = { type: "string", pattern: REPO_PATTERN, description: "The repository as 'owner/repo'" };

/** GitHub's answer to a failed action, as the errors every integration shares (a GitHub outage is a 503, not ours). */
function actionError(e: unknown): never {
  const { answered, status, reason, retryAfter } = githubFailure(e);
  if (!answered) throw integrationError("GitHub", `could not be reached (${reason}); check CLANKER_GITHUB_API_URL and this server's network, then retry`, true);
  if (status === 401) throw integrationAuthFailed("GitHub", `${reason}; the token is the github connector's`);
  if (retryAfter !== null) throw integrationRateLimited("GitHub", retryAfter);
  throw integrationError("GitHub", `answered ${status ?? "nothing"}: ${reason}`, !status || status >= 500);
}

export function createGithubIntegration(connections: ConnectionStore): IntegrationProvider {
  const tokenOf = async (ctx: IntegrationContext): Promise<string> => {
    const c = await connections.get(ctx.workspaceId, "connector", "github");
    const token = c?.credentials?.token;
    if (!token) throw new InvalidRequestError("The github integration uses the github connector's token: connect the github connector first", "integration", "CONNECTOR_NOT_CONNECTED");
    return token;
  };
  const split = (r: string) => r.split("/") as [string, string];

  return {
    id: "github",
    name: "GitHub",
    description: "Open issues and comment on issues and pull requests, with the github connector's token",
    actions: [
      {
        name: "create_issue",
        description: "Open an issue",
        input: { type: "object", properties: { repo, title: { type: "string", minLength: 1, maxLength: 256 }, body: { type: "string", maxLength: 65536 } }, required: ["repo", "title"], additionalProperties: false },
      },
      {
        name: "comment",
        description: "Comment on an issue or pull request",
        input: { type: "object", properties: { repo, number: { type: "integer", minimum: 1 }, body: { type: "string", minLength: 1, maxLength: 65536 } }, required: ["repo", "number", "body"], additionalProperties: false },
      },
    ],
    configured: () => ({ ok: true }),
    actsWithConnector: "github",
    async connect(ctx) {
      await tokenOf(ctx);
      const account = (await connections.get(ctx.workspaceId, "connector", "github"))?.account ?? null;
      // Nothing of its own to store: the token stays the connector's.
      return { connected: { account, credentials: null } };
    },
    async execute(ctx, action, input) {
      const gh = octokitFor(ctx.config, await tokenOf(ctx));
      const [owner, name] = split(String(input.repo));
      try {
        if (action === "create_issue") {
          const body = `${input.body === undefined ? "" : String(input.body)}${ctx.loopMark?.(`${owner}/${name}`, String(input.title)) ?? ""}`;
          const { data } = await gh.rest.issues.create({ owner, repo: name, title: String(input.title), body: body === "" ? undefined : body });
          return { number: data.number, url: data.html_url, id: data.id };
        }
        if (action === "comment") {
          const { data } = await gh.rest.issues.createComment({ owner, repo: name, issue_number: Number(input.number), body: String(input.body) });
          return { id: data.id, url: data.html_url };
        }
      } catch (e) {
        actionError(e);
      }
      throw new InvalidRequestError(`The github integration has no action '${action}'`, "action");
    },
  };
}
