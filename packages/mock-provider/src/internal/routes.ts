import type { MockEndpoint, MockProviderName } from '../served-request';

export interface Route {
  provider: MockProviderName;
  endpoint: MockEndpoint;
  /** The model named in the URL (Gemini, Vertex AI, Bedrock); the others name it in the body. */
  model?: string;
  /** The URL itself asks for a stream (`:streamGenerateContent`, `/converse-stream`, ...). */
  stream?: boolean;
  /** The URL's method or operation as sent, e.g. `batchEmbedContents`, `predict`, `invoke`. */
  operation?: string;
}

const ROUTES = new Map<string, Route>([
  ['/v1/chat/completions', { provider: 'openai', endpoint: 'chat.completions' }],
  ['/v1/responses', { provider: 'openai', endpoint: 'responses' }],
  ['/v1/embeddings', { provider: 'openai', endpoint: 'embeddings' }],
  ['/v1/completions', { provider: 'openai', endpoint: 'completions' }],
  ['/v1/messages', { provider: 'anthropic', endpoint: 'messages' }],
  ['/v1/messages/count_tokens', { provider: 'anthropic', endpoint: 'messages.count_tokens' }],
]);

const GEMINI_METHODS: Record<string, MockEndpoint> = {
  generateContent: 'generate_content',
  streamGenerateContent: 'generate_content',
  countTokens: 'count_tokens',
  batchEmbedContents: 'embed_content',
  embedContent: 'embed_content',
};

const VERTEX_METHODS: Record<string, MockEndpoint> = {
  generateContent: 'generate_content',
  streamGenerateContent: 'generate_content',
  countTokens: 'count_tokens',
  predict: 'embed_content',
  embedContent: 'embed_content',
};

const BEDROCK_OPERATIONS: Record<string, MockEndpoint> = {
  converse: 'converse',
  'converse-stream': 'converse',
  invoke: 'invoke_model',
  'invoke-with-response-stream': 'invoke_model',
  'count-tokens': 'count_tokens',
};

// Gemini API: /v1beta/models/{model}:{method}, also tuned models.
const GEMINI_PATH = /^\/v1(?:beta|alpha)?\/(models|tunedModels)\/([^/:]+):([A-Za-z]+)$/;
// Vertex AI: /v1beta1/projects/{p}/locations/{l}/publishers/{pub}/models/{model}:{method}; express
// mode (an API key, no project) drops the projects/locations prefix.
const VERTEX_PATH =
  /^\/v1(?:beta1)?\/(?:projects\/[^/]+\/locations\/[^/]+\/)?publishers\/[^/]+\/models\/([^/:]+):([A-Za-z]+)$/;
// Bedrock Runtime: /model/{modelId}/{operation}; the id is URL-encoded (ARNs carry '/' as %2F).
const BEDROCK_PATH = /^\/model\/([^/]+)\/([a-z-]+)$/;
// Azure OpenAI: /openai/deployments/{deployment}/{operation}?api-version=…, OpenAI's wire format;
// the deployment stands where OpenAI's body names the model.
const AZURE_OPENAI_PATH = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/;
const AZURE_OPENAI_OPERATIONS: Record<string, MockEndpoint> = {
  'chat/completions': 'chat.completions',
  completions: 'completions',
  embeddings: 'embeddings',
};

/** The route for a `POST` to `url` (query ignored, so `?beta=true` lands on the same route). */
export function matchRoute(method: string | undefined, url: string | undefined): Route | undefined {
  if (method !== 'POST' || url === undefined) return undefined;
  const query = url.indexOf('?');
  const raw = query === -1 ? url : url.slice(0, query);
  const path = raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
  const fixed = ROUTES.get(path);
  if (fixed) return fixed;

  const gemini = GEMINI_PATH.exec(path);
  if (gemini) {
    const [, collection, model, operation] = gemini as unknown as [string, string, string, string];
    const endpoint = GEMINI_METHODS[operation];
    if (!endpoint) return undefined;
    const name = decode(model);
    return {
      provider: 'gcp.gemini',
      endpoint,
      model: collection === 'tunedModels' ? `tunedModels/${name}` : name,
      stream: operation === 'streamGenerateContent',
      operation,
    };
  }
  const vertex = VERTEX_PATH.exec(path);
  if (vertex) {
    const [, model, operation] = vertex as unknown as [string, string, string];
    const endpoint = VERTEX_METHODS[operation];
    if (!endpoint) return undefined;
    return {
      provider: 'gcp.vertex_ai',
      endpoint,
      model: decode(model),
      stream: operation === 'streamGenerateContent',
      operation,
    };
  }
  const bedrock = BEDROCK_PATH.exec(path);
  if (bedrock) {
    const [, model, operation] = bedrock as unknown as [string, string, string];
    const endpoint = BEDROCK_OPERATIONS[operation];
    if (!endpoint) return undefined;
    return {
      provider: 'aws.bedrock',
      endpoint,
      model: decode(model),
      stream: operation.endsWith('-stream'),
      operation,
    };
  }
  const azure = AZURE_OPENAI_PATH.exec(path);
  if (azure) {
    const [, deployment, operation] = azure as unknown as [string, string, string];
    return { provider: 'openai', endpoint: AZURE_OPENAI_OPERATIONS[operation]!, model: decode(deployment) };
  }
  return undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
