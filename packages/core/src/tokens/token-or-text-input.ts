import type { RequestTally } from './request-tally';

function isTokenArray(value: readonly unknown[]): boolean {
  return value.length > 0 && value.every((entry) => typeof entry === 'number');
}

/**
 * Input that OpenAI accepts as text or as already-tokenized ids, alone or batched:
 * `string | string[] | number[] | number[][]` (embeddings `input`, completions `prompt`).
 * Texts are tokenized separately, as the provider does; token arrays count their length.
 *
 * @param input - The `input` or `prompt` field.
 * @param tally - Where to add it.
 */
export function tallyTokenOrTextInput(input: unknown, tally: RequestTally): void {
  if (!Array.isArray(input)) {
    tally.addValue(input);
    return;
  }
  if (isTokenArray(input)) {
    tally.addTokens(input.length);
    return;
  }
  for (const entry of input) {
    if (Array.isArray(entry) && isTokenArray(entry)) tally.addTokens(entry.length);
    else tally.addValue(entry);
  }
}

/**
 * How many separate inputs a `string | string[] | number[] | number[][]` field holds.
 *
 * @param input - The `input` or `prompt` field.
 * @returns 1 for a single text or token array, the array length for a batch (at least 1).
 */
export function countBatchedInputs(input: unknown): number {
  if (!Array.isArray(input) || isTokenArray(input)) return 1;
  return Math.max(1, input.length);
}
