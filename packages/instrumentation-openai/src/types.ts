import type { TollgateInstrumentationConfig } from '@tollgate/core/instrumentation';
import type { Deployments } from './azure-deployments';

/** Configuration of `OpenAIInstrumentation`. */
export interface OpenAIInstrumentationConfig extends TollgateInstrumentationConfig {
  /**
   * Ask for usage in chat completion streams (`stream_options.include_usage`) when the caller
   * did not, so streamed cost is settled from the provider's own figures. The extra
   * usage-only chunk is hidden from a caller who never asked for it.
   * @default true
   */
  includeStreamUsage?: boolean;
  /**
   * `gen_ai.provider.name` for calls through this SDK. By default `azure.ai.openai` for an
   * `AzureOpenAI` client, else read from the client's base URL (`openai`, `azure.ai.openai`,
   * `groq`, `deepseek`, …), falling back to `openai`.
   */
  providerName?: string;
  /**
   * Azure OpenAI deployment names mapped to the models they serve, so calls are priced, budgeted
   * and rate-limited as that model: `{ 'prod-gpt4o': 'gpt-4o' }`. An unmapped deployment is
   * priced by its own name (refused under a USD budget when the price table does not know it).
   * A fallback rule's substitute is sent as the deployment mapped to it.
   * @default {}
   */
  deployments?: Deployments;
}
