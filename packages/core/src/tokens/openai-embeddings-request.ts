import type { RequestTally } from './request-tally';
import { tallyTokenOrTextInput } from './token-or-text-input';

/**
 * Adds what an OpenAI embeddings request is billed for: exactly the tokens of each
 * input, with no framing.
 *
 * @param body - The request body.
 * @param tally - Where to add it.
 */
export function tallyOpenAiEmbeddingsRequest(
  body: Readonly<Record<string, unknown>>,
  tally: RequestTally,
): void {
  tallyTokenOrTextInput(body.input, tally);
}
