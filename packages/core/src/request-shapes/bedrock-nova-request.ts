import {
  readNestedIntegerField,
  tallyBedrockConverseRequest,
  withNestedOutputCap,
} from './bedrock-converse-request';
import { checkArrayField } from './request-body-fields';
import type { RequestShape } from './request-shape';

/**
 * Amazon Nova's own InvokeModel body (`schemaVersion: 'messages-v1'`): Converse's message
 * layout with the cap in `inferenceConfig.max_new_tokens`; the model's maximum when unset;
 * always one choice.
 */
export const bedrockNovaShape: RequestShape = {
  genAiOperationName: 'chat',
  tallyInput: tallyBedrockConverseRequest,
  checkBody(body) {
    checkArrayField(body, 'messages');
    checkArrayField(body, 'system');
  },
  requestedOutputCap(body) {
    return readNestedIntegerField(body, 'inferenceConfig', 'max_new_tokens', 1);
  },
  defaultOutputCap: undefined,
  outputCapField() {
    return 'inferenceConfig.max_new_tokens';
  },
  withOutputCap(body, cap) {
    if (bedrockNovaShape.requestedOutputCap(body) !== undefined) return body;
    return withNestedOutputCap(body, 'inferenceConfig', 'max_new_tokens', cap);
  },
  choiceCount() {
    return 1;
  },
};
