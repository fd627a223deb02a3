import { embeddingVector, float32Base64 } from './embedding-vector';
import type { Reply } from './exchange';
import { integerField, type ReplyContext } from './reply-context';

export function validateEmbeddings(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string') return "Missing required parameter: 'model'.";
  const input = body.input;
  if (typeof input !== 'string' && !(Array.isArray(input) && input.length > 0)) {
    return "Missing required parameter: 'input'.";
  }
  if (
    body.encoding_format !== undefined &&
    body.encoding_format !== 'float' &&
    body.encoding_format !== 'base64'
  ) {
    return "Invalid value for 'encoding_format': expected 'float' or 'base64'.";
  }
  return undefined;
}

/**
 * `POST /v1/embeddings`: one deterministic unit vector per input, as float arrays or, with
 * `encoding_format: 'base64'` (what the SDK asks for by default), base64 float32 bytes.
 * Dimensions: the request's `dimensions`, else 3072 for `*-3-large` models, else 1536.
 */
export function embeddingsReply(context: ReplyContext): Reply {
  const { body, model } = context;
  const dimensions = integerField(body, 'dimensions') || (model.includes('3-large') ? 3072 : 1536);
  const base64 = body.encoding_format === 'base64';
  const data = embeddingInputs(body.input).map((text, index) => {
    const vector = embeddingVector(text, dimensions);
    return { object: 'embedding', index, embedding: base64 ? float32Base64(vector) : Array.from(vector) };
  });
  const response: Record<string, unknown> = { object: 'list', data, model };
  if (!context.malformedUsage) {
    response.usage = { prompt_tokens: context.inputTokens, total_tokens: context.inputTokens };
  }
  return {
    type: 'json',
    status: 200,
    body: response,
    usage: {
      inputTokens: context.inputTokens,
      outputTokens: 0,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
      reasoningOutputTokens: 0,
    },
  };
}

/** One string per embedding: texts as given, token arrays by their JSON. */
function embeddingInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) return [];
  if (input.every((item) => typeof item === 'number')) return [JSON.stringify(input)];
  return input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}
