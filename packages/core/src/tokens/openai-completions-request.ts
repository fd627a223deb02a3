import type { RequestTally } from './request-tally';
import { tallyTokenOrTextInput } from './token-or-text-input';

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
