import type { TokenUsage } from '@tollgate/core';
import { tokenCount as count, type Endpoint, endpointOf } from '@tollgate/core/instrumentation';
import * as semconv from './semconv';

type Json = Record<string, unknown>;

const KNOWN_HOSTS: ReadonlyArray<[RegExp, string]> = [
  [/(^|\.)api\.openai\.com$/, semconv.GEN_AI_PROVIDER_NAME_VALUE_OPENAI],
  [/\.openai\.azure\.com$/, semconv.GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI],
  [/\.services\.ai\.azure\.com$/, semconv.GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_INFERENCE],
  [/(^|\.)api\.groq\.com$/, semconv.GEN_AI_PROVIDER_NAME_VALUE_GROQ],
  [/(^|\.)api\.deepseek\.com$/, semconv.GEN_AI_PROVIDER_NAME_VALUE_DEEPSEEK],
  [/(^|\.)api\.mistral\.ai$/, semconv.GEN_AI_PROVIDER_NAME_VALUE_MISTRAL_AI],
  [/(^|\.)api\.x\.ai$/, semconv.GEN_AI_PROVIDER_NAME_VALUE_X_AI],
  [/(^|\.)api\.perplexity\.ai$/, semconv.GEN_AI_PROVIDER_NAME_VALUE_PERPLEXITY],
  [/(^|\.)generativelanguage\.googleapis\.com$/, semconv.GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI],
];

/** The endpoint's host and port, and the provider name its host implies (`openai` when unrecognised). */
export interface OpenAIEndpoint extends Endpoint {
  provider: string;
}

const described = new Map<string, OpenAIEndpoint>();

/** Memoised per base URL, like `endpointOf`: a client passes the same one on every call. */
export function describeEndpoint(baseURL: string | undefined): OpenAIEndpoint {
  const key = baseURL ?? '';
  let endpoint = described.get(key);
  if (endpoint) return endpoint;
  const { address, port } = endpointOf(baseURL);
  const provider =
    (address !== undefined && KNOWN_HOSTS.find(([pattern]) => pattern.test(address))?.[1]) ||
    semconv.GEN_AI_PROVIDER_NAME_VALUE_OPENAI;
  endpoint = Object.freeze({ provider, address, port });
  if (described.size >= 64) described.clear();
  described.set(key, endpoint);
  return endpoint;
}

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null ? (value as Json) : undefined;
}

/**
 * Normalises a Chat Completions / legacy Completions / Embeddings `usage` object. OpenAI's
 * `prompt_tokens` already includes cached tokens, as `gen_ai.usage.input_tokens` expects.
 * Returns undefined when the object carries no token counts at all.
 */
export function chatUsage(usage: unknown, outputTokensWhenAbsent?: number): TokenUsage | undefined {
  const raw = record(usage);
  if (!raw) return undefined;
  const normalized: TokenUsage = {
    inputTokens: count(raw.prompt_tokens),
    outputTokens: count(raw.completion_tokens) ?? outputTokensWhenAbsent,
    cacheReadInputTokens: count(record(raw.prompt_tokens_details)?.cached_tokens),
    reasoningOutputTokens: count(record(raw.completion_tokens_details)?.reasoning_tokens),
  };
  return normalized.inputTokens === undefined && normalized.outputTokens === undefined
    ? undefined
    : normalized;
}

/** Normalises a Responses API `usage` object. */
export function responsesUsage(usage: unknown): TokenUsage | undefined {
  const raw = record(usage);
  if (!raw) return undefined;
  const normalized: TokenUsage = {
    inputTokens: count(raw.input_tokens),
    outputTokens: count(raw.output_tokens),
    cacheReadInputTokens: count(record(raw.input_tokens_details)?.cached_tokens),
    reasoningOutputTokens: count(record(raw.output_tokens_details)?.reasoning_tokens),
  };
  return normalized.inputTokens === undefined && normalized.outputTokens === undefined
    ? undefined
    : normalized;
}

/** Text of every choice in a (non-streamed) chat completion or legacy completion, for local counting. */
export function completionText(result: Json): string {
  const choices = Array.isArray(result.choices) ? result.choices : [];
  return choices
    .map((choice) => {
      const entry = record(choice);
      const message = record(entry?.message);
      const toolText = Array.isArray(message?.tool_calls)
        ? message.tool_calls.map((call) => JSON.stringify(record(call)?.function ?? '')).join('')
        : '';
      return `${typeof message?.content === 'string' ? message.content : ''}${typeof entry?.text === 'string' ? entry.text : ''}${toolText}`;
    })
    .join('');
}

/** Text of a Responses API result's output items. */
export function responsesText(result: Json): string {
  if (typeof result.output_text === 'string') return result.output_text;
  const output = Array.isArray(result.output) ? result.output : [];
  return output.map((item) => JSON.stringify(item)).join('');
}

export function finishReasons(result: Json): string[] {
  const choices = Array.isArray(result.choices) ? result.choices : [];
  return choices
    .map((choice) => record(choice)?.finish_reason)
    .filter((reason): reason is string => typeof reason === 'string');
}

export function asRecord(value: unknown): Json | undefined {
  return record(value);
}
