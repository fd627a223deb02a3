import { countWords } from '../token-scheme';
import { embeddingVector } from './embedding-vector';
import { emptyUsage, type Reply } from './exchange';
import { integerField, isRecord, type ReplyContext } from './reply-context';

/** Output size when the request sets none: 3072 for the Gemini embedding models, else 768. */
function defaultDimensions(model: string): number {
  return model.includes('gemini-embedding') ? 3072 : 768;
}

/**
 * Embeddings in each of the shapes @google/genai uses: Gemini API `:batchEmbedContents` (and
 * `:embedContent`), which report no usage; Vertex AI `:predict`, with per-instance
 * `statistics.token_count`, and Vertex `:embedContent`, with `usageMetadata`. Vectors are the
 * same deterministic unit vectors as OpenAI embeddings.
 */
export function embedContentReply(context: ReplyContext): Reply {
  const { body, model, operation } = context;
  const usage = { ...emptyUsage(), inputTokens: context.inputTokens };
  const vector = (text: string, dimensions: number | undefined) =>
    Array.from(embeddingVector(text, dimensions || defaultDimensions(model)));
  let response: Record<string, unknown>;

  if (operation === 'predict') {
    const parameters = isRecord(body.parameters) ? body.parameters : {};
    const dimensions = integerField(parameters, 'outputDimensionality');
    const predictions = (body.instances as unknown[]).map((instance) => {
      const text = isRecord(instance) && typeof instance.content === 'string' ? instance.content : '';
      const embeddings: Record<string, unknown> = { values: vector(text, dimensions) };
      if (!context.malformedUsage)
        embeddings.statistics = { token_count: countWords(text), truncated: false };
      return { embeddings };
    });
    response = { predictions, metadata: { billableCharacterCount: billableCharacters(body.instances) } };
  } else if (operation === 'batchEmbedContents') {
    const embeddings = (body.requests as unknown[]).map((request) => {
      const entry = isRecord(request) ? request : {};
      return { values: vector(contentText(entry.content), integerField(entry, 'outputDimensionality')) };
    });
    response = { embeddings };
  } else {
    const config = isRecord(body.embedContentConfig) ? body.embedContentConfig : body;
    const embedding = {
      values: vector(contentText(body.content), integerField(config, 'outputDimensionality')),
    };
    response = { embedding };
    if (context.provider === 'gcp.vertex_ai') {
      response.truncated = false;
      if (!context.malformedUsage) {
        response.usageMetadata = {
          promptTokenCount: context.inputTokens,
          totalTokenCount: context.inputTokens,
        };
      }
    }
  }
  return { type: 'json', status: 200, body: response, usage };
}

/** `:countTokens`: `{ totalTokens }` by the mock's counting scheme, as generateContent would bill. Free. */
export function countTokensReply(context: ReplyContext): Reply {
  const body: Record<string, unknown> = {
    totalTokens: context.inputTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: context.inputTokens }],
  };
  return { type: 'json', status: 200, body, usage: emptyUsage() };
}

/** The text of a Gemini `Content`: its text parts joined by spaces. */
function contentText(content: unknown): string {
  if (!isRecord(content) || !Array.isArray(content.parts)) return '';
  return content.parts
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .join(' ');
}

function billableCharacters(instances: unknown): number {
  let characters = 0;
  for (const instance of Array.isArray(instances) ? instances : []) {
    if (isRecord(instance) && typeof instance.content === 'string') {
      characters += instance.content.replace(/\s/g, '').length;
    }
  }
  return characters;
}
