import type { RequestTally } from '../tokens/request-tally';
import { isRecord } from '../tokens/untrusted-json';
import { checkArrayField, checkTextOrArrayField, readIntegerField } from './request-body-fields';
import { type RequestBody, type RequestShape, withTopLevelOutputCap } from './request-shape';

/** Role markers (`[INST]`, `[/INST]`) around each chat message. */
const MISTRAL_TOKENS_PER_MESSAGE = 4;

/**
 * Adds what a Mistral InvokeModel body is billed for: a formatted `prompt` (Mistral 7B,
 * Mixtral), or chat `messages` and `tools` (Mistral Large, Pixtral).
 */
export function tallyBedrockMistralRequest(body: RequestBody, tally: RequestTally): void {
  tally.addValue(body.prompt);
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      tally.addTokens(MISTRAL_TOKENS_PER_MESSAGE);
      if (isRecord(message)) {
        tally.addValue(message.content);
        tally.addValue(message.tool_calls);
      } else tally.addValue(message);
    }
  }
  tally.addValue(body.tools);
}

/**
 * Mistral's own InvokeModel body on Bedrock (`{ prompt | messages, max_tokens }`). Output cap:
 * `max_tokens`; its default differs by model, so the model's maximum applies when unset;
 * always one choice.
 */
export const bedrockMistralShape: RequestShape = {
  genAiOperationName: 'text_completion',
  tallyInput: tallyBedrockMistralRequest,
  checkBody(body) {
    checkTextOrArrayField(body, 'prompt');
    checkArrayField(body, 'messages');
  },
  requestedOutputCap(body) {
    return readIntegerField(body, 'max_tokens', 1);
  },
  defaultOutputCap: undefined,
  outputCapField() {
    return 'max_tokens';
  },
  withOutputCap(body, cap, provider) {
    return withTopLevelOutputCap(bedrockMistralShape, body, cap, provider);
  },
  choiceCount() {
    return 1;
  },
};
