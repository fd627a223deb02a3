import { loadEncoder } from './encoder-loading';
import { modelFamily, type TiktokenEncodingName } from './encoding-for-model';
import type { LoadedEncoder } from './loaded-encoder';
import {
  type ResolvedTokenEstimatorOptions,
  resolveTokenEstimatorOptions,
  safetyFactorFor,
  type TokenEstimatorOptions,
} from './token-estimator-options';
import { countWithEncoder } from './tokenizer';
import { encoderIfReady } from './tokenizer-warm-up';
import { utf8ByteLength } from './utf8-byte-length';

/**
 * How an estimate was produced.
 * - `tiktoken`: counted with the model's own encoding (exact for the text, overheads bounded).
 * - `approximation`: a Claude model; cl100k_base count times a safety factor, capped at the byte length.
 * - `byte-bound`: the text was too large to tokenize cheaply, or the tokenizer was not ready
 *   (still building in the background, or failed to load); its UTF-8 byte length stands in as
 *   the bound.
 */
export type TokenEstimateMethod = 'tiktoken' | 'approximation' | 'byte-bound';

/** Token count of a set of texts and how it was obtained. */
export interface TextTokenCount {
  tokens: number;
  method: TokenEstimateMethod;
  /** The encoding that counted the text; `undefined` when no tokenizer ran. */
  encoding: TiktokenEncodingName | undefined;
}

function tryLoadEncoder(encoding: TiktokenEncodingName): LoadedEncoder | undefined {
  try {
    return loadEncoder(encoding);
  } catch {
    // A missing or broken js-tiktoken must not break the call being gated: the byte
    // bound is still a valid upper bound. preloadTokenizer() surfaces the failure.
    return undefined;
  }
}

/**
 * Counts the tokens of several independent texts for one model, choosing between the
 * tokenizer and the byte bound by their total size.
 *
 * @param model - The model named in the request.
 * @param provider - The provider, when known (`anthropic` selects the approximation).
 * @param texts - Texts the provider will tokenize separately.
 * @param options - Resolved options.
 * @returns The summed count, the method and the encoding used.
 */
export function countTextSegments(
  model: string,
  provider: string | undefined,
  texts: readonly string[],
  options: ResolvedTokenEstimatorOptions,
): TextTokenCount {
  const family = modelFamily(model, provider);
  const approximate = family.approximated;
  const encoding: TiktokenEncodingName = family.encoding;
  const byteLengths = texts.map(utf8ByteLength);
  const totalBytes = byteLengths.reduce((sum, bytes) => sum + bytes, 0);
  if (totalBytes > options.exactCountMaxBytes) {
    return { tokens: totalBytes, method: 'byte-bound', encoding: undefined };
  }
  if (totalBytes === 0) {
    // Nothing to tokenize: skip building an encoder just to count nothing.
    return { tokens: 0, method: approximate ? 'approximation' : 'tiktoken', encoding };
  }
  // Not waiting: the byte length bounds what the tokenizer would count (and the Claude
  // approximation, which is capped at it), so the estimate can only be higher, never lower.
  const encoder = options.waitForTokenizer ? tryLoadEncoder(encoding) : encoderIfReady(encoding);
  if (encoder === undefined) return { tokens: totalBytes, method: 'byte-bound', encoding: undefined };

  const factor = safetyFactorFor(model, provider, options);
  let tokens = 0;
  texts.forEach((text, index) => {
    const counted = countWithEncoder(encoder, text);
    // The byte length bounds any byte-level BPE, so scaling never needs to exceed it.
    tokens += approximate ? Math.min(byteLengths[index] ?? 0, Math.ceil(counted * factor)) : counted;
  });
  return { tokens, method: approximate ? 'approximation' : 'tiktoken', encoding };
}

/**
 * Counts the tokens of one text for a model: used for streamed output text whose usage
 * the provider never reported (an interrupted stream).
 *
 * Same encoding choice as `estimateInputTokens`; above `exactCountMaxBytes` the byte
 * length is returned; Claude models get the approximation (safety factor, capped at the
 * byte length).
 *
 * @param model - The model that produced or will read the text.
 * @param text - The text to count.
 * @param options - Optional tuning, as for `estimateInputTokens`.
 * @returns A token count at or above what the provider's tokenizer yields for `text` alone.
 * @throws {TypeError} When an option is invalid.
 * @example
 * countTextTokens('gpt-4o', 'Hello, world!'); // 4
 */
export function countTextTokens(model: string, text: string, options?: TokenEstimatorOptions): number {
  const resolved = resolveTokenEstimatorOptions(options);
  return countTextSegments(model, undefined, [String(text)], resolved).tokens;
}
