import { isClaudeModel, usesLateClaudeTokenizer } from './encoding-for-model';

/** Tuning for pre-call token estimation. Every field is optional. */
export interface TokenEstimatorOptions {
  /**
   * Above this many UTF-8 bytes of request text, skip the tokenizer and use the byte
   * count as the bound (each BPE token is at least one byte). Keeps estimation within a
   * few milliseconds: text not seen before costs ~0.3 µs per byte of English and ~0.6 µs
   * per byte of Japanese (~3 ms and ~5–10 ms at the default), text seen before ~0.1 µs
   * per byte (figures in docs/token-estimation.md).
   * `Infinity` always counts exactly; `0` never loads a tokenizer.
   *
   * @default 8_192
   */
  exactCountMaxBytes?: number;
  /**
   * Multiplier applied to the cl100k_base count of text sent to Claude models, whose
   * tokenizer is not public. Each text is capped at its byte length, which bounds any
   * byte-level BPE.
   *
   * @default 1.35 for Claude models before 4.7; 1.8 for Claude Opus 4.7 and later and for unversioned Claude ids
   */
  anthropicSafetyFactor?: number;
  /**
   * What to do when the tokenizer a model needs is not built yet (building takes ~0.1–0.3 s of
   * blocked event loop, once per encoding and process). `true`: build it now and count.
   * `false`: estimate the text by its UTF-8 byte length, which is at or above what the
   * tokenizer would count, and build the tokenizer in the background for later calls.
   *
   * @default true for `estimateInputTokens` and `countTextTokens`; a guard defaults to `false`
   */
  waitForTokenizer?: boolean;
}

/** Options after defaults and validation. */
export interface ResolvedTokenEstimatorOptions {
  readonly exactCountMaxBytes: number;
  /** `undefined` means "use the per-model default". */
  readonly anthropicSafetyFactor: number | undefined;
  readonly waitForTokenizer: boolean;
}

/** @see TokenEstimatorOptions.exactCountMaxBytes */
export const DEFAULT_EXACT_COUNT_MAX_BYTES = 8192;

/**
 * Claude models up to 4.6 against cl100k_base. Public comparisons of Claude 3.5 Sonnet
 * with GPT-4o measured ~16% more tokens for English, ~21% for math and ~30% for code;
 * cl100k counts at least as many as GPT-4o's o200k on such text, and 1.35 leaves margin
 * above the 1.30 worst case.
 */
export const EARLY_CLAUDE_SAFETY_FACTOR = 1.35;

/**
 * Claude Opus 4.7 and later against cl100k_base. Anthropic states the 4.7 tokenizer uses
 * 1.0–1.35× the tokens of earlier models; independent count_tokens probes measured up to
 * ~1.45× on English prose and ~1.47× on technical docs. Compounded with the ~1.16–1.30
 * above, the worst measured ratio is ~1.75; 1.8 covers it.
 */
export const LATE_CLAUDE_SAFETY_FACTOR = 1.8;

/**
 * Applies defaults and validates options in one place.
 *
 * @param options - As passed by the caller.
 * @returns The resolved options.
 * @throws {TypeError} Naming the option, when a value is out of range or not a number.
 */
export function resolveTokenEstimatorOptions(
  options: TokenEstimatorOptions | undefined,
): ResolvedTokenEstimatorOptions {
  const exactCountMaxBytes = options?.exactCountMaxBytes ?? DEFAULT_EXACT_COUNT_MAX_BYTES;
  if (typeof exactCountMaxBytes !== 'number' || Number.isNaN(exactCountMaxBytes) || exactCountMaxBytes < 0) {
    throw new TypeError(
      `Invalid exactCountMaxBytes: expected a number of bytes >= 0, got ${String(exactCountMaxBytes)}`,
    );
  }
  const anthropicSafetyFactor = options?.anthropicSafetyFactor;
  if (
    anthropicSafetyFactor !== undefined &&
    (typeof anthropicSafetyFactor !== 'number' ||
      !Number.isFinite(anthropicSafetyFactor) ||
      anthropicSafetyFactor < 1)
  ) {
    throw new TypeError(
      `Invalid anthropicSafetyFactor: expected a finite number >= 1, got ${String(anthropicSafetyFactor)}`,
    );
  }
  const waitForTokenizer = options?.waitForTokenizer ?? true;
  if (typeof waitForTokenizer !== 'boolean') {
    throw new TypeError(`Invalid waitForTokenizer: expected a boolean, got ${String(waitForTokenizer)}`);
  }
  return { exactCountMaxBytes, anthropicSafetyFactor, waitForTokenizer };
}

/**
 * The factor applied to the base count for a model: 1 for models counted exactly.
 *
 * @param model - The model named in the request.
 * @param provider - The provider, when known.
 * @param options - Resolved options.
 * @returns The multiplier (>= 1).
 */
export function safetyFactorFor(
  model: string,
  provider: string | undefined,
  options: ResolvedTokenEstimatorOptions,
): number {
  if (!isClaudeModel(model, provider)) return 1;
  if (options.anthropicSafetyFactor !== undefined) return options.anthropicSafetyFactor;
  return usesLateClaudeTokenizer(model) ? LATE_CLAUDE_SAFETY_FACTOR : EARLY_CLAUDE_SAFETY_FACTOR;
}
