/*
 * `gen_ai.provider.name` values of the OpenTelemetry GenAI semantic conventions (Development
 * status, experimental): copied rather than imported from the incubating entry point, so a
 * rename upstream is a deliberate change here. The attribute names themselves, and Tollgate's
 * own `tollgate.*` names, are core's (`semconv` from `@tollgate/core/instrumentation`).
 */

export const GEN_AI_PROVIDER_NAME_VALUE_OPENAI = 'openai';
export const GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI = 'azure.ai.openai';
export const GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_INFERENCE = 'azure.ai.inference';
export const GEN_AI_PROVIDER_NAME_VALUE_GROQ = 'groq';
export const GEN_AI_PROVIDER_NAME_VALUE_DEEPSEEK = 'deepseek';
export const GEN_AI_PROVIDER_NAME_VALUE_MISTRAL_AI = 'mistral_ai';
export const GEN_AI_PROVIDER_NAME_VALUE_X_AI = 'x_ai';
export const GEN_AI_PROVIDER_NAME_VALUE_PERPLEXITY = 'perplexity';
export const GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI = 'gcp.gemini';
