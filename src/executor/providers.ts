// Which model a run uses: the workspace's BYOK key, else the server's Anthropic key, else an
// OpenAI-compatible endpoint (Ollama, LM Studio, vLLM, OpenRouter).
import type { ModelConfig } from "../config";
import { InvalidRequestError } from "../lib/errors";
import type { ProviderSpec } from "./protocol";

export function chooseProvider(models: ModelConfig, byokKey: string | null): ProviderSpec {
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
