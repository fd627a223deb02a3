import { emptyUsage, type Reply } from './exchange';
import { isRecord, type ReplyContext } from './reply-context';

/** The model body inside `input.invokeModel.body` (base64 on the wire), or `undefined`. */
export function invokeBodyOf(input: Record<string, unknown>): unknown {
  const invoke = input.invokeModel;
  if (!isRecord(invoke) || typeof invoke.body !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(invoke.body, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

export function validateBedrockCountTokens(body: Record<string, unknown>): string | undefined {
  const input = body.input;
  if (!isRecord(input))
    return "1 validation error detected: Value null at 'input' failed to satisfy constraint: Member must not be null";
  if (isRecord(input.converse)) {
    return Array.isArray(input.converse.messages) ? undefined : 'The converse input must contain messages.';
  }
  if (isRecord(invokeBodyOf(input))) return undefined;
  return 'The input must be one of converse or invokeModel, with a JSON body.';
}

/** `/model/{id}/count-tokens`: `{ inputTokens }` as Converse or InvokeModel would bill them. Free. */
export function bedrockCountTokensReply(context: ReplyContext): Reply {
  return { type: 'json', status: 200, body: { inputTokens: context.inputTokens }, usage: emptyUsage() };
}
