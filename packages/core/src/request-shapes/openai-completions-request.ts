import type { RequestTally } from '../tokens/request-tally';
import { countBatchedInputs, tallyTokenOrTextInput } from '../tokens/token-or-text-input';
import { checkTextOrArrayField, readIntegerField } from './request-body-fields';
import { type RequestShape, withTopLevelOutputCap } from './request-shape';

/**
 * The output cap of a legacy completions request that sets none: the API defaults
 * `max_tokens` to 16.
 */
export const LEGACY_COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

/**
 * Adds what a legacy completions request is billed for: the tokens of each prompt, and
 * the `suffix` for insertion requests. The prompt is sent as is, with no chat framing.
 *
 * @param body - The request body.
 * @param tally - Where to add it.
 */
export function tallyOpenAiCompletionsRequest(
  body: Readonly<Record<string, unknown>>,
  tally: RequestTally,
): void {
  tallyTokenOrTextInput(body.prompt, tally);
  tally.addValue(body.suffix);
}

/**
 * OpenAI legacy Completions (`POST /completions`). Output cap: `max_tokens`, 16 when unset;
 * choices: the larger of `n` and `best_of` (best_of completions are generated and billed
 * server-side), times the number of prompts when `prompt` is a batch.
 */
export const openAiCompletionsShape: RequestShape = {
  genAiOperationName: 'text_completion',
  tallyInput: tallyOpenAiCompletionsRequest,
  checkBody(body) {
    checkTextOrArrayField(body, 'prompt');
  },
  requestedOutputCap(body) {
    return readIntegerField(body, 'max_tokens', 0);
  },
  defaultOutputCap: LEGACY_COMPLETIONS_DEFAULT_MAX_TOKENS,
  outputCapField() {
    return 'max_tokens';
  },
  withOutputCap(body, cap, provider) {
    return withTopLevelOutputCap(openAiCompletionsShape, body, cap, provider);
  },
  choiceCount(body) {
    const n = readIntegerField(body, 'n', 1) ?? 1;
    const bestOf = readIntegerField(body, 'best_of', 1) ?? 1;
    return Math.max(n, bestOf) * countBatchedInputs(body.prompt);
  },
};
