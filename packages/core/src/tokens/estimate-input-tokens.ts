import type { LlmCallDescriptor } from '../call/llm-call';
import { tallyAnthropicMessagesRequest } from './anthropic-messages-request';
import { countTextSegments, type TokenEstimateMethod } from './count-text-tokens';
import { isClaudeModel, type TiktokenEncodingName } from './encoding-for-model';
import { tallyOpenAiChatRequest } from './openai-chat-request';
import { tallyOpenAiCompletionsRequest } from './openai-completions-request';
import { tallyOpenAiEmbeddingsRequest } from './openai-embeddings-request';
import { tallyOpenAiResponsesRequest } from './openai-responses-request';
import { RequestTally } from './request-tally';
import { resolveTokenEstimatorOptions, type TokenEstimatorOptions } from './token-estimator-options';
import { isRecord, jsonText } from './untrusted-json';
import { utf8ByteLength } from './utf8-byte-length';

/** A pre-call estimate of the input tokens a provider will bill for a request. */
export interface InputTokenEstimate {
  /** Estimated input tokens: meant to be at or above what the provider bills. */
  estimatedInputTokens: number;
  /** How the text was counted; fixed overheads and attachment bounds are added in every case. */
  method: TokenEstimateMethod;
  /** The encoding that counted the text; `undefined` when no tokenizer ran (`byte-bound`). */
  encoding: TiktokenEncodingName | undefined;
}

function tallyRequest(call: LlmCallDescriptor, tally: RequestTally): void {
  const { body } = call;
  if (!isRecord(body)) {
    tally.addValue(body);
    return;
  }
  switch (call.operation) {
    case 'chat':
      tallyOpenAiChatRequest(body, tally);
      return;
    case 'responses':
      tallyOpenAiResponsesRequest(body, tally);
      return;
    case 'embeddings':
      tallyOpenAiEmbeddingsRequest(body, tally);
      return;
    case 'text_completion':
      tallyOpenAiCompletionsRequest(body, tally);
      return;
    case 'messages':
      tallyAnthropicMessagesRequest(body, tally);
      return;
    default:
      // An operation this version does not know: the whole body as text still bounds it.
      tally.addValue(body);
  }
}

/** Used only when reading the request itself failed (a throwing getter or proxy): the body's JSON bytes. */
function fallbackEstimate(body: unknown): InputTokenEstimate {
  return {
    estimatedInputTokens: Math.max(1, utf8ByteLength(jsonText(body))),
    method: 'byte-bound',
    encoding: undefined,
  };
}

/**
 * Estimates the input tokens a call will be billed for, before it is sent.
 *
 * Text is counted with the model's tiktoken encoding (Claude: cl100k_base times a safety
 * factor); framing, tool definitions, built-in tools and attachments add documented
 * fixed allowances. Above `exactCountMaxBytes` of text the byte length replaces the
 * tokenizer. Odd request shapes never throw: what is not recognised is counted by its
 * JSON text. Context the provider holds (`previous_response_id`, stored prompts, files
 * by id) is not in the body; files by id are reserved at a fixed page count.
 *
 * @param call - The call about to be sent.
 * @param options - Optional tuning.
 * @returns The estimate (at least 1), the method and the encoding used.
 * @throws {TypeError} Only when `options` is invalid.
 * @example
 * const estimate = estimateInputTokens({
 *   provider: 'openai',
 *   operation: 'chat',
 *   model: 'gpt-4o-mini',
 *   body: { messages: [{ role: 'user', content: 'Hello!' }] },
 * });
 * // { estimatedInputTokens: 9, method: 'tiktoken', encoding: 'o200k_base' }
 */
export function estimateInputTokens(
  call: LlmCallDescriptor,
  options?: TokenEstimatorOptions,
): InputTokenEstimate {
  const resolved = resolveTokenEstimatorOptions(options);
  try {
    const model = typeof call.model === 'string' ? call.model : String(call.model);
    const tally = new RequestTally({ model, claude: isClaudeModel(model, call.provider) });
    tallyRequest(call, tally);
    const text = countTextSegments(model, call.provider, tally.texts, resolved);
    return {
      estimatedInputTokens: Math.max(1, text.tokens + tally.knownTokens),
      method: text.method,
      encoding: text.encoding,
    };
  } catch {
    // Estimation must never break the call it gates; the JSON byte length still bounds the text.
    return fallbackEstimate(call?.body);
  }
}

// The tokens module's public surface, re-exported from its main entry point.
export { countTextTokens, type TokenEstimateMethod } from './count-text-tokens';
export {
  outputCapField,
  requestedChoiceCount,
  requestedMaxOutputTokens,
  withOutputCap,
} from './request-output-limits';
export type { TokenEstimatorOptions } from './token-estimator-options';
export { preloadTokenizer } from './tokenizer';
