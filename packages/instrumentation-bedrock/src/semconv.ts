/*
 * The `gen_ai.provider.name` value of the OpenTelemetry GenAI semantic conventions (Development
 * status, experimental) for Amazon Bedrock: copied rather than imported from the incubating entry
 * point, so a rename upstream is a deliberate change here. The attribute names themselves, and
 * Tollgate's own `tollgate.*` names, are core's (`semconv` from `@tollgate/core/instrumentation`).
 */

export const GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK = 'aws.bedrock';
