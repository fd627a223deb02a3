import type { RequestTally } from '../tokens/request-tally';
import { tallyTokenOrTextInput } from '../tokens/token-or-text-input';
import { checkTextOrArrayField } from './request-body-fields';
import type { RequestShape } from './request-shape';

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

/** OpenAI Embeddings (`POST /embeddings`): no output tokens, so no cap to read or write. */
export const openAiEmbeddingsShape: RequestShape = {
  genAiOperationName: 'embeddings',
  tallyInput: tallyOpenAiEmbeddingsRequest,
  checkBody(body) {
    checkTextOrArrayField(body, 'input');
  },
  requestedOutputCap() {
    return undefined;
  },
  defaultOutputCap: 0,
  outputCapField() {
    return undefined;
  },
  withOutputCap(body) {
    return body;
  },
  choiceCount() {
    return 1;
  },
};
