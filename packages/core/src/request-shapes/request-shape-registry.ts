import { aiSdkPromptShape } from './ai-sdk-prompt-request';
import { anthropicMessagesShape } from './anthropic-messages-request';
import { bedrockConverseShape } from './bedrock-converse-request';
import { bedrockLlamaShape } from './bedrock-llama-request';
import { bedrockMistralShape } from './bedrock-mistral-request';
import { bedrockNovaShape } from './bedrock-nova-request';
import { geminiGenerateContentShape } from './gemini-generate-content-request';
import { openAiChatShape } from './openai-chat-request';
import { openAiCompletionsShape } from './openai-completions-request';
import { openAiEmbeddingsShape } from './openai-embeddings-request';
import { openAiResponsesShape } from './openai-responses-request';
import type { RequestShape } from './request-shape';

/**
 * Every request format the gate reads, keyed by `LlmCallDescriptor.operation`. A new
 * provider SDK adds its shape module and one line here; its operation name then joins
 * `OperationName`.
 */
const REQUEST_SHAPES = {
  chat: openAiChatShape,
  responses: openAiResponsesShape,
  embeddings: openAiEmbeddingsShape,
  text_completion: openAiCompletionsShape,
  messages: anthropicMessagesShape,
  generate_content: geminiGenerateContentShape,
  converse: bedrockConverseShape,
  invoke_nova: bedrockNovaShape,
  invoke_llama: bedrockLlamaShape,
  invoke_mistral: bedrockMistralShape,
  ai_sdk: aiSdkPromptShape,
} as const satisfies Readonly<Record<string, RequestShape>>;

/**
 * The API operation a call performs. Matches `gen_ai.operation.name` where the
 * semantic conventions define one (`chat`, `embeddings`, `text_completion`);
 * `responses` and `messages` name the request shape so the estimator can read it.
 */
export type OperationName = keyof typeof REQUEST_SHAPES;

// A Map, so an operation named like an Object.prototype member is unknown, not a crash.
const BY_OPERATION: ReadonlyMap<string, RequestShape> = new Map(Object.entries(REQUEST_SHAPES));

/**
 * The request format of an operation.
 *
 * @param operation - `LlmCallDescriptor.operation`.
 * @returns The shape, or `undefined` for an operation this version does not know.
 */
export function requestShapeOf(operation: string): RequestShape | undefined {
  return BY_OPERATION.get(operation);
}

/**
 * `gen_ai.operation.name` for a call: its shape's name (`chat` for Responses and Messages),
 * or the operation itself when no shape is registered for it.
 *
 * @param call - The call's operation.
 * @returns The operation name spans and metrics carry.
 */
export function genAiOperationName(call: { readonly operation: string }): string {
  return BY_OPERATION.get(call.operation)?.genAiOperationName ?? call.operation;
}
