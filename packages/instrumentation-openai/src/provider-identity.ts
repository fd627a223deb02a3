import type { Guard } from '@tollgate/core';
import { isAzureClient } from './azure-deployments';
import type { ClientLike } from './internal-types';
import * as semconv from './semconv';
import type { OpenAIInstrumentationConfig } from './types';
import { describeEndpoint } from './utils';

/**
 * `gen_ai.provider.name` of a call, most specific first: the instrumentation's `providerName`;
 * the guard's configured provider (`providers`) whose base URL the client's falls under; an
 * `AzureOpenAI` client's `azure.ai.openai`; the provider its host implies; else `openai`.
 * A configured server wins over the Azure client check, so a gateway named by its URL keeps its
 * name whichever client reaches it.
 */
export function providerOf(
  client: ClientLike,
  settings: OpenAIInstrumentationConfig,
  guard: Guard | undefined,
): string {
  return (
    settings.providerName ??
    guard?.providerAt(client.baseURL) ??
    (isAzureClient(client)
      ? semconv.GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI
      : describeEndpoint(client.baseURL).provider)
  );
}
