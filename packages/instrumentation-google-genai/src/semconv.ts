/*
 * The `gen_ai.provider.name` values of the OpenTelemetry GenAI semantic conventions (Development
 * status, experimental) for this SDK's two backends: copied rather than imported from the
 * incubating entry point, so a rename upstream is a deliberate change here. The attribute names
 * themselves, and Tollgate's own `tollgate.*` names, are core's (`semconv` from
 * `@tollgate/core/instrumentation`).
 */

/** The Gemini Developer API (`generativelanguage.googleapis.com`). */
export const GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI = 'gcp.gemini';
/** Vertex AI (`aiplatform.googleapis.com`), including express mode. */
export const GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI = 'gcp.vertex_ai';
