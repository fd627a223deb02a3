import type { MockEndpoint } from '../served-request';
import {
  countTokensReply as anthropicCountTokensReply,
  messagesReply,
  validateMessages,
} from './anthropic-messages';
import { converseReply, validateConverse } from './bedrock-converse';
import { bedrockCountTokensReply, validateBedrockCountTokens } from './bedrock-count-tokens';
import { invokeReply } from './bedrock-invoke';
import { invokeMaxTokens, modelFamily, validateInvokeBody } from './bedrock-model-family';
import type { Reply } from './exchange';
import { embedContentReply, countTokensReply as geminiCountTokensReply } from './gemini-embed';
import { generateContentReply } from './gemini-generate';
import { validateCountTokens, validateEmbed, validateGenerateContent } from './gemini-request';
import { chatCompletionReply, validateChat } from './openai-chat';
import { completionsReply, validateCompletions } from './openai-completions';
import { embeddingsReply, validateEmbeddings } from './openai-embeddings';
import { responsesReply, validateResponses } from './openai-responses';
import { integerField, isRecord, type ReplyContext } from './reply-context';
import type { Route } from './routes';

/** What the server needs to know about one API operation. */
export interface EndpointHandler {
  /** A 400's message when the body is not what the API accepts. */
  validate(body: Record<string, unknown>, route: Route): string | undefined;
  reply(context: ReplyContext): Reply;
  /**
   * The output cap the rate-limit window charges, from the body (0 for embeddings);
   * `undefined` charges the `outputTokens` knob.
   */
  maxOutputTokens(body: Record<string, unknown>, route: Route): number | undefined;
  /** Token counting: bills nothing, takes no rate-limit window, gets no `malformed-usage`. */
  free?: true;
}

/** OpenAI's and Anthropic's caps, whichever the body uses. */
function bodyCap(body: Record<string, unknown>): number | undefined {
  return (
    integerField(body, 'max_completion_tokens') ??
    integerField(body, 'max_tokens') ??
    integerField(body, 'max_output_tokens')
  );
}

const noCap = () => 0;

export const ENDPOINTS: Readonly<Record<MockEndpoint, EndpointHandler>> = {
  'chat.completions': { validate: validateChat, reply: chatCompletionReply, maxOutputTokens: bodyCap },
  responses: { validate: validateResponses, reply: responsesReply, maxOutputTokens: bodyCap },
  embeddings: {
    validate: validateEmbeddings,
    reply: (context) => embeddingsReply({ ...context, stream: false }),
    maxOutputTokens: noCap,
  },
  completions: { validate: validateCompletions, reply: completionsReply, maxOutputTokens: bodyCap },
  messages: {
    validate: (body) => validateMessages(body, false),
    reply: messagesReply,
    maxOutputTokens: bodyCap,
  },
  'messages.count_tokens': {
    validate: (body) => validateMessages(body, true),
    reply: anthropicCountTokensReply,
    maxOutputTokens: noCap,
    free: true,
  },
  generate_content: {
    validate: (body, route) => validateGenerateContent(body, route.provider),
    reply: generateContentReply,
    maxOutputTokens: (body) => {
      const config = isRecord(body.generationConfig) ? body.generationConfig : {};
      const cap = integerField(config, 'maxOutputTokens');
      return cap === undefined ? undefined : cap * (integerField(config, 'candidateCount') || 1);
    },
  },
  embed_content: {
    validate: (body, route) => validateEmbed(body, route.operation),
    reply: embedContentReply,
    maxOutputTokens: noCap,
  },
  count_tokens: {
    validate: (body, route) =>
      route.provider === 'aws.bedrock'
        ? validateBedrockCountTokens(body)
        : validateCountTokens(body, route.provider),
    reply: (context) =>
      context.provider === 'aws.bedrock' ? bedrockCountTokensReply(context) : geminiCountTokensReply(context),
    maxOutputTokens: noCap,
    free: true,
  },
  converse: {
    validate: validateConverse,
    reply: converseReply,
    maxOutputTokens: (body) =>
      isRecord(body.inferenceConfig) ? integerField(body.inferenceConfig, 'maxTokens') : undefined,
  },
  invoke_model: {
    validate: (body, route) => validateInvokeBody(modelFamily(route.model ?? '', body), body),
    reply: invokeReply,
    maxOutputTokens: (body, route) => invokeMaxTokens(modelFamily(route.model ?? '', body), body),
  },
};
