import type { OperationName, TokenUsage } from '@tollgate/core';
import { stringOf } from '@tollgate/core/instrumentation';

export { stringOf };

type Json = Record<string, unknown>;

export function asRecord(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function count(value: unknown): number | undefined {
  if (typeof value === 'string' && value.trim() !== '') return count(Number(value));
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * The model a Bedrock `modelId` names, as spans and prices read it: an ARN (foundation model,
 * inference profile, application inference profile, provisioned or imported model) is reduced to
 * its resource id; base ids and cross-region profiles (`us.anthropic.claude-…`) are kept.
 */
export function bedrockModelName(modelId: string): string {
  if (!modelId.startsWith('arn:')) return modelId;
  const slash = modelId.lastIndexOf('/');
  return slash >= 0 && slash < modelId.length - 1 ? modelId.slice(slash + 1) : modelId;
}

/** Vendor segments of a Bedrock model id and the InvokeModel body format their models take. */
const INVOKE_FORMATS: ReadonlyArray<readonly [vendor: string, model: RegExp, operation: OperationName]> = [
  ['anthropic', /^claude/, 'messages'],
  ['amazon', /^nova/, 'invoke_nova'],
  ['meta', /^llama/, 'invoke_llama'],
  ['mistral', /(?:)/, 'invoke_mistral'],
];

/**
 * The request shape of an InvokeModel body: from the model id's vendor (`anthropic.`, `amazon.nova`,
 * `meta.llama`, `mistral.`, behind any geography prefix), else from what the body itself carries
 * (an application inference profile's id names no model).
 *
 * @returns The operation, or undefined for a model family this package does not read.
 */
export function invokeOperation(model: string, body: Json): OperationName | undefined {
  const parts = model.toLowerCase().split('.');
  for (let index = 0; index < parts.length - 1; index++) {
    const next = parts[index + 1]!;
    const format = INVOKE_FORMATS.find(([vendor, pattern]) => vendor === parts[index] && pattern.test(next));
    if (format) return format[2];
  }
  if (typeof body.anthropic_version === 'string') return 'messages';
  if (body.schemaVersion === 'messages-v1') return 'invoke_nova';
  if (body.max_gen_len !== undefined) return 'invoke_llama';
  return undefined;
}

/**
 * Normalises Bedrock usage. Bedrock's input count leaves out the tokens read from and written to
 * the prompt cache; `gen_ai.usage.input_tokens` counts every input token, so they are added up.
 * The field names differ by where the usage comes from (Converse `usage`, Nova bodies, the
 * stream's invocation metrics), so the caller names them.
 */
export function bedrockUsage(
  raw: Json | undefined,
  fields: { input: string; output: string; cacheRead: string; cacheWrite: string },
): TokenUsage | undefined {
  if (!raw) return undefined;
  const uncached = count(raw[fields.input]);
  const cacheRead = count(raw[fields.cacheRead]);
  const cacheWrite = count(raw[fields.cacheWrite]);
  const output = count(raw[fields.output]);
  if (uncached === undefined || output === undefined) return undefined;
  return {
    inputTokens: uncached + (cacheRead ?? 0) + (cacheWrite ?? 0),
    outputTokens: output,
    cacheReadInputTokens: cacheRead,
    cacheWriteInputTokens: cacheWrite,
  };
}

/** Converse `usage`, the ConverseStream `metadata.usage` and Nova's InvokeModel `usage`. */
export const CONVERSE_USAGE_FIELDS = {
  input: 'inputTokens',
  output: 'outputTokens',
  cacheRead: 'cacheReadInputTokens',
  cacheWrite: 'cacheWriteInputTokens',
} as const;

/** `x-amzn-bedrock-*-token-count` response headers (lower case, as the SDK hands them over). */
export const TOKEN_COUNT_HEADERS = {
  input: 'x-amzn-bedrock-input-token-count',
  output: 'x-amzn-bedrock-output-token-count',
  cacheRead: 'x-amzn-bedrock-cache-read-input-token-count',
  cacheWrite: 'x-amzn-bedrock-cache-write-input-token-count',
} as const;

/** `amazon-bedrock-invocationMetrics` on the last InvokeModelWithResponseStream chunk. */
export const INVOCATION_METRICS_FIELDS = {
  input: 'inputTokenCount',
  output: 'outputTokenCount',
  cacheRead: 'cacheReadInputTokenCount',
  cacheWrite: 'cacheWriteInputTokenCount',
} as const;

/** The usage a model's own InvokeModel response body reports (Anthropic, Nova, Llama). */
export function invokeBodyUsage(body: Json): TokenUsage | undefined {
  const anthropic = asRecord(body.usage);
  if (anthropic && anthropic.input_tokens !== undefined) {
    return bedrockUsage(anthropic, {
      input: 'input_tokens',
      output: 'output_tokens',
      cacheRead: 'cache_read_input_tokens',
      cacheWrite: 'cache_creation_input_tokens',
    });
  }
  if (anthropic) {
    return bedrockUsage(anthropic, {
      ...CONVERSE_USAGE_FIELDS,
      cacheRead: 'cacheReadInputTokenCount',
      cacheWrite: 'cacheWriteInputTokenCount',
    });
  }
  return bedrockUsage(body, {
    input: 'prompt_token_count',
    output: 'generation_token_count',
    cacheRead: 'cache_read_input_token_count',
    cacheWrite: 'cache_write_input_token_count',
  });
}

/** The text one model-JSON piece (an InvokeModel body or stream chunk) adds to the reply, if any. */
export function invokeText(piece: Json): string | undefined {
  // Anthropic `content_block_delta`, Nova `contentBlockDelta`, Llama `generation`, Mistral `outputs`.
  const delta = asRecord(piece.delta) ?? asRecord(asRecord(piece.contentBlockDelta)?.delta);
  if (delta) return stringOf(delta.text) ?? stringOf(delta.partial_json) ?? stringOf(delta.thinking);
  if (typeof piece.generation === 'string') return piece.generation;
  if (Array.isArray(piece.outputs)) {
    return piece.outputs.map((output) => stringOf(asRecord(output)?.text) ?? '').join('');
  }
  if (Array.isArray(piece.content)) {
    return piece.content.map((block) => stringOf(asRecord(block)?.text) ?? '').join('');
  }
  const message = asRecord(asRecord(piece.output)?.message);
  if (message && Array.isArray(message.content)) {
    return message.content.map((block) => stringOf(asRecord(block)?.text) ?? '').join('');
  }
  return undefined;
}

const decoder = new TextDecoder();

/** A JSON object from bytes or text, or undefined when it is not one. */
export function parseJsonObject(value: unknown): Json | undefined {
  let text: string | undefined;
  if (typeof value === 'string') text = value;
  else if (value instanceof Uint8Array) text = decoder.decode(value);
  if (text === undefined) return undefined;
  try {
    return asRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}
