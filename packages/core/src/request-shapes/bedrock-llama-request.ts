import { imageTokenBound } from '../tokens/attachment-token-bounds';
import type { RequestTally } from '../tokens/request-tally';
import { checkTextOrArrayField, readIntegerField } from './request-body-fields';
import { type RequestBody, type RequestShape, withTopLevelOutputCap } from './request-shape';

/** Bedrock's documented default for `max_gen_len` when a Llama body sets none. */
export const BEDROCK_LLAMA_DEFAULT_MAX_GEN_LEN = 512;

/**
 * Adds what a Meta Llama InvokeModel body is billed for: its `prompt`, already formatted with
 * the model's chat template by the caller, and any `images` (Llama 3.2 vision) as attachments.
 */
export function tallyBedrockLlamaRequest(body: RequestBody, tally: RequestTally): void {
  tally.addValue(body.prompt);
  if (Array.isArray(body.images))
    for (const _ of body.images) tally.addTokens(imageTokenBound(tally.context));
}

/**
 * Meta Llama's own InvokeModel body on Bedrock (`{ prompt, max_gen_len }`). Output cap:
 * `max_gen_len`, 512 when unset (the API's default); always one choice.
 */
export const bedrockLlamaShape: RequestShape = {
  genAiOperationName: 'text_completion',
  tallyInput: tallyBedrockLlamaRequest,
  checkBody(body) {
    checkTextOrArrayField(body, 'prompt');
  },
  requestedOutputCap(body) {
    return readIntegerField(body, 'max_gen_len', 1);
  },
  defaultOutputCap: BEDROCK_LLAMA_DEFAULT_MAX_GEN_LEN,
  outputCapField() {
    return 'max_gen_len';
  },
  withOutputCap(body, cap, provider) {
    return withTopLevelOutputCap(bedrockLlamaShape, body, cap, provider);
  },
  choiceCount() {
    return 1;
  },
};
