// Which model a run uses: a key bound to its skill, else the workspace's BYOK key, else the server's Anthropic key,
// else an OpenAI-compatible endpoint (Ollama, LM Studio, vLLM, OpenRouter).
import type { ModelConfig } from "../config";
import { InvalidRequestError } from "../lib/errors";
import type { ProviderSpec } from "./protocol";
import type { ByokService } from "../modules/byok/service";
import type { SecretsService } from "../modules/secrets/service";

/** Model keys bound to a skill (POST /api/v1/skills/:slug/secrets as ANTHROPIC_API_KEY or OPENAI_API_KEY). */
export interface SkillModelKeys {
  anthropic?: string;
  openai?: string;
}

/**
 * A skill's own key is its runs' key, paid by whoever owns it (`byok`: not charged), as the workspace's BYOK key is:
 * an Anthropic key on the server's Anthropic endpoint, an OpenAI one on its OpenAI-compatible endpoint (there is none
 * to send it to unless OPENAI_BASE_URL names one).
 */
export function chooseProvider(models: ModelConfig, byokKey: string | null, skill: SkillModelKeys = {}): ProviderSpec {
  if (skill.anthropic) return { kind: "anthropic", apiKey: skill.anthropic, baseUrl: models.anthropicBaseUrl, model: models.anthropicModel, byok: true };
  if (skill.openai && models.openaiBaseUrl) return { kind: "openai-compatible", apiKey: skill.openai, baseUrl: models.openaiBaseUrl, model: models.openaiModel, byok: true };
  if (byokKey) return { kind: "anthropic", apiKey: byokKey, baseUrl: models.anthropicBaseUrl, model: models.anthropicModel, byok: true };
  if (models.anthropicApiKey)
    return { kind: "anthropic", apiKey: models.anthropicApiKey, baseUrl: models.anthropicBaseUrl, model: models.anthropicModel, byok: false };
  if (models.openaiBaseUrl) return { kind: "openai-compatible", apiKey: models.openaiApiKey, baseUrl: models.openaiBaseUrl, model: models.openaiModel, byok: false };
  throw new InvalidRequestError(
    "No model is configured. Either bring your own Anthropic key for this workspace (PUT /api/v1/byok), or start the server with ANTHROPIC_API_KEY, or with OPENAI_BASE_URL pointing at an OpenAI-compatible endpoint such as a local Ollama (http://127.0.0.1:11434/v1).",
    undefined,
    "MODEL_NOT_CONFIGURED",
  );
}

/** The provider a run of `slug` in the workspace uses, read from the store: its skill's keys, the workspace's BYOK key. */
export async function providerOf(d: { config: { models: ModelConfig }; byok: Pick<ByokService, "anthropicKey">; secrets: Pick<SecretsService, "modelKeysFor"> }, workspaceId: number, slug: string): Promise<ProviderSpec> {
  const [byokKey, skillKeys] = await Promise.all([d.byok.anthropicKey(workspaceId), d.secrets.modelKeysFor(workspaceId, slug)]);
  return chooseProvider(d.config.models, byokKey, skillKeys);
}
