import type { TokenUsage } from '@tollgate/core';
import { asRecord, tokenCount as count, stringOf } from '@tollgate/core/instrumentation';
import {
  GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK,
  GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI,
  GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI,
  GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI,
  GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
} from './semconv';

export { asRecord, stringOf };

/** The AI SDK's `provider` prefixes, most specific first, with the provider name prices and budgets use. */
const PROVIDER_PREFIXES: ReadonlyArray<readonly [prefix: string, name: string]> = [
  ['openai', GEN_AI_PROVIDER_NAME_VALUE_OPENAI],
  ['anthropic', GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC],
  ['google.vertex', GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI],
  ['vertex', GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI],
  ['google', GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI],
  ['azure', GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI],
  ['amazon-bedrock', GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK],
  ['bedrock', GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK],
];

/**
 * The provider name Tollgate prices, budgets and spans use for an AI SDK model's `provider`
 * (`openai.responses`, `anthropic.messages`, `google.generative-ai`, `google.vertex.chat`,
 * `azure.chat`, …). Any other provider is named by its first segment (`groq.chat` → `groq`), as
 * an OpenAI-compatible endpoint Tollgate has no profile for.
 */
export function tollgateProviderName(aiSdkProvider: string): string {
  for (const [prefix, name] of PROVIDER_PREFIXES) {
    if (aiSdkProvider === prefix || aiSdkProvider.startsWith(`${prefix}.`)) return name;
  }
  const dot = aiSdkProvider.indexOf('.');
  return dot > 0 ? aiSdkProvider.slice(0, dot) : aiSdkProvider;
}

/**
 * The base URL a provider package's model sends to: `config.baseURL` (Anthropic, Google) or
 * `config.url({ path: '' })` (OpenAI and the OpenAI-compatible packages).
 */
export function baseUrlOf(model: {
  readonly config?: unknown;
  readonly modelId: string;
}): string | undefined {
  const config = asRecord(model.config);
  if (!config) return undefined;
  if (typeof config.baseURL === 'string') return config.baseURL;
  if (typeof config.url !== 'function') return undefined;
  try {
    const url: unknown = config.url({ path: '', modelId: model.modelId });
    return typeof url === 'string' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Normalises the `usage` of a `doGenerate` result or a stream's `finish` part: the nested form
 * of `@ai-sdk/provider` v3 and v4 (`inputTokens: { total, noCache, cacheRead, cacheWrite }`,
 * `outputTokens: { total, text, reasoning }`) and the flat numbers of v2 (`inputTokens`,
 * `outputTokens`, `reasoningTokens`, `cachedInputTokens`). Input totals include cache reads
 * and writes, output totals include reasoning, as Tollgate counts them.
 *
 * @returns The usage, or undefined when neither input nor output is reported.
 */
export function aiSdkUsage(usage: unknown): TokenUsage | undefined {
  const raw = asRecord(usage);
  if (!raw) return undefined;
  const input = asRecord(raw.inputTokens);
  const output = asRecord(raw.outputTokens);
  let result: TokenUsage;
  if (input || output) {
    const cacheRead = count(input?.cacheRead);
    const cacheWrite = count(input?.cacheWrite);
    const noCache = count(input?.noCache);
    const inputTotal =
      count(input?.total) ??
      (noCache === undefined ? undefined : noCache + (cacheRead ?? 0) + (cacheWrite ?? 0));
    const reasoning = count(output?.reasoning);
    const text = count(output?.text);
    const outputTotal = count(output?.total) ?? (text === undefined ? undefined : text + (reasoning ?? 0));
    result = {
      inputTokens: inputTotal,
      outputTokens: outputTotal,
      cacheReadInputTokens: cacheRead,
      cacheWriteInputTokens: cacheWrite,
      reasoningOutputTokens: reasoning,
    };
  } else {
    result = {
      inputTokens: count(raw.inputTokens),
      outputTokens: count(raw.outputTokens),
      cacheReadInputTokens: count(raw.cachedInputTokens),
      reasoningOutputTokens: count(raw.reasoningTokens),
    };
  }
  return result.inputTokens === undefined && result.outputTokens === undefined ? undefined : result;
}

/** A finish reason as v3/v4 report it (`{ unified, raw }`) or v2 did (a string). */
export function finishReasonOf(value: unknown): string | undefined {
  return stringOf(value) ?? stringOf(asRecord(value)?.raw) ?? stringOf(asRecord(value)?.unified);
}

/** The `status` of an AI SDK `APICallError` (`statusCode`), or of any error that carries one. */
export function statusOf(error: unknown): number | undefined {
  const record = asRecord(error);
  const status = record?.statusCode ?? record?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Response headers as the AI SDK keeps them (a plain record), as `Headers`. */
export function headersOf(value: unknown): Headers | undefined {
  const record = asRecord(value);
  if (!record) return undefined;
  const headers = new Headers();
  for (const [name, header] of Object.entries(record)) {
    if (typeof header === 'string') headers.set(name, header);
  }
  return headers;
}
