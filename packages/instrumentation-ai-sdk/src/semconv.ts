/*
 * `gen_ai.provider.name` values of the OpenTelemetry GenAI semantic conventions (Development
 * status, experimental) for the providers the AI SDK's packages call: copied rather than
 * imported from the incubating entry point, so a rename upstream is a deliberate change here.
 * The attribute names themselves are core's (`semconv` from `@tollgate/core/instrumentation`).
 */

export const GEN_AI_PROVIDER_NAME_VALUE_OPENAI = 'openai';
export const GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC = 'anthropic';
export const GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI = 'azure.ai.openai';
export const GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI = 'gcp.gemini';
export const GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI = 'gcp.vertex_ai';
export const GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK = 'aws.bedrock';
