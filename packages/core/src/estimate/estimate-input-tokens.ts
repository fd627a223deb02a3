import type { LlmCallDescriptor } from '../call/llm-call';
import { requestShapeOf } from '../request-shapes/request-shape-registry';
import { countTextSegments, type TokenEstimateMethod } from '../tokens/count-text-tokens';
import { isClaudeModel, type TiktokenEncodingName } from '../tokens/encoding-for-model';
import { RequestTally } from '../tokens/request-tally';
import { resolveTokenEstimatorOptions, type TokenEstimatorOptions } from '../tokens/token-estimator-options';
import { isRecord, jsonText } from '../tokens/untrusted-json';
import { utf8ByteLength } from '../tokens/utf8-byte-length';

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
  const shape = requestShapeOf(call.operation);
  // A body that is not an object, or an operation this version does not know: the whole
  // body as text still bounds it.
  if (!isRecord(body) || shape === undefined) tally.addValue(body);
  else shape.tallyInput(body, tally);
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
