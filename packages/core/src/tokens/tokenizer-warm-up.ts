import { builtEncoder, encoderBuildFailure, warmEncoder } from './encoder-loading';
import { modelFamily, type TiktokenEncodingName } from './encoding-for-model';
import type { LoadedEncoder } from './loaded-encoder';

/** A model the gate may be asked about, and the provider serving it when known. */
export interface WarmUpTarget {
  model: string;
  provider?: string;
}

/**
 * Whether the tokenizer a model needs is built, so a call to it is counted rather than
 * bounded by its byte length (when the estimator does not wait for tokenizers).
 *
 * @param model - A model name.
 * @param provider - The provider serving it, when known (`anthropic` selects Claude's encoding).
 * @returns `true` once the model's encoding is built in this process.
 * @example
 * isTokenizerReady('gpt-4o'); // false until a warm-up or a count built o200k_base
 */
export function isTokenizerReady(model: string, provider?: string): boolean {
  return builtEncoder(modelFamily(model, provider).encoding) !== undefined;
}

/**
 * Builds the tokenizer a model needs in the background, in slices of a few milliseconds, so
 * neither start-up nor a call waits for it. A guard starts this by itself for the models its
 * configuration names; calls that arrive first are estimated by the byte bound. While the
 * returned promise is pending the process stays alive.
 *
 * @param model - A model name.
 * @param provider - The provider serving it, when known.
 * @returns Resolves with the encoding once it is built; rejects when js-tiktoken or its rank
 *   file cannot be loaded (estimates then keep using the byte bound).
 * @example
 * await warmUpTokenizer('gpt-4o'); // 'o200k_base'
 */
export async function warmUpTokenizer(model: string, provider?: string): Promise<TiktokenEncodingName> {
  const encoding = modelFamily(model, provider).encoding;
  await warmEncoder(encoding, true);
  return encoding;
}

/**
 * Starts the same background build without keeping the process alive for it: what a guard
 * does after start-up, so a short-lived process is not held up by a tokenizer it never uses.
 *
 * @param target - The model, and its provider when known.
 * @returns As `warmUpTokenizer`.
 */
export async function startTokenizerWarmUp(target: WarmUpTarget): Promise<TiktokenEncodingName> {
  const encoding = modelFamily(target.model, target.provider).encoding;
  await warmEncoder(encoding, false);
  return encoding;
}

/**
 * The encoder to count with now, for a caller that must not wait: the built encoder, or
 * `undefined` after starting (or while running) its background build. A build that failed
 * is not retried on every call.
 *
 * @param encoding - The encoding the text needs.
 * @returns The encoder when built; `undefined` means "use the byte bound".
 */
export function encoderIfReady(encoding: TiktokenEncodingName): LoadedEncoder | undefined {
  const encoder = builtEncoder(encoding);
  if (encoder !== undefined || encoderBuildFailure(encoding) !== undefined) return encoder;
  // The failure is kept by the build and shows as byte-bound estimates; preloadTokenizer() reports it.
  warmEncoder(encoding, false).catch(() => undefined);
  return undefined;
}
