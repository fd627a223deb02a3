import { converseLayoutShape } from './bedrock-converse-request';
import type { RequestShape } from './request-shape';

/**
 * Amazon Nova's own InvokeModel body (`schemaVersion: 'messages-v1'`): Converse's message
 * layout with the cap in `inferenceConfig.max_new_tokens`.
 */
export const bedrockNovaShape: RequestShape = converseLayoutShape('max_new_tokens');
