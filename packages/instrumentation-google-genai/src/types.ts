import type { TollgateInstrumentationConfig } from '@tollgate/core/instrumentation';

/** Configuration of `GoogleGenAIInstrumentation`. */
export interface GoogleGenAIInstrumentationConfig extends TollgateInstrumentationConfig {
  /**
   * `gen_ai.provider.name` for calls through this SDK, and the provider the guard's budgets and
   * rate limits match on. Unset, each call is named by the client's backend.
   * @default 'gcp.gemini' for Gemini API clients, 'gcp.vertex_ai' for Vertex AI clients
   */
  providerName?: string;
}
