import type { MockProviderName } from '../served-request';
import type { ToolChoice } from './output-plan';
import { isRecord } from './reply-context';

// Top-level fields of GenerateContentRequest that the API accepts (and @google/genai 2.x sends).
const GENERATE_FIELDS = new Set([
  'model',
  'contents',
  'tools',
  'toolConfig',
  'safetySettings',
  'systemInstruction',
  'generationConfig',
  'cachedContent',
  'labels',
  'serviceTier',
  'store',
  'continuationToken',
]);
const VERTEX_ONLY_FIELDS = new Set(['modelArmorConfig', 'outputConfig']);

const GENERATION_CONFIG_FIELDS = new Set([
  'audioTimestamp',
  'audioTranscriptionConfig',
  'candidateCount',
  'enableAffectiveDialog',
  'enableEnhancedCivicAnswers',
  'frequencyPenalty',
  'imageConfig',
  'logprobs',
  'maxOutputTokens',
  'mediaResolution',
  'modelConfig',
  'presencePenalty',
  'responseJsonSchema',
  'responseLogprobs',
  'responseMimeType',
  'responseModalities',
  'responseSchema',
  'routingConfig',
  'seed',
  'speechConfig',
  'stopSequences',
  'temperature',
  'thinkingConfig',
  'topK',
  'topP',
]);

const COUNT_TOKENS_FIELDS: Record<string, Set<string>> = {
  'gcp.gemini': new Set(['contents', 'generateContentRequest']),
  'gcp.vertex_ai': new Set([
    'model',
    'contents',
    'systemInstruction',
    'tools',
    'generationConfig',
    'instances',
  ]),
};

const EMBED_FIELDS: Record<string, Set<string>> = {
  batchEmbedContents: new Set(['requests']),
  embedContent: new Set([
    'model',
    'content',
    'taskType',
    'title',
    'outputDimensionality',
    'embedContentConfig',
    'autoTruncate',
  ]),
  predict: new Set(['instances', 'parameters']),
};

/** Google's wording for a field the request schema does not have. */
function unknownField(name: string, at?: string): string {
  const where = at ? ` at '${at}'` : '';
  return `Invalid JSON payload received. Unknown name "${name}"${where}: Cannot find field.`;
}

function firstUnknown(body: Record<string, unknown>, allowed: Set<string>): string | undefined {
  return Object.keys(body).find((key) => !allowed.has(key));
}

/** Rejects what the Gemini API and Vertex AI reject: unknown fields anywhere we check, no contents. */
export function validateGenerateContent(
  body: Record<string, unknown>,
  provider: MockProviderName,
): string | undefined {
  const unknown = Object.keys(body).find(
    (key) => !GENERATE_FIELDS.has(key) && !(provider === 'gcp.vertex_ai' && VERTEX_ONLY_FIELDS.has(key)),
  );
  if (unknown !== undefined) return unknownField(unknown);
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return '* GenerateContentRequest.contents: contents is not specified';
  }
  const config = body.generationConfig;
  if (config !== undefined) {
    if (!isRecord(config)) return 'Invalid JSON payload received. generation_config must be an object.';
    const unknownConfig = firstUnknown(config, GENERATION_CONFIG_FIELDS);
    if (unknownConfig !== undefined) return unknownField(unknownConfig, 'generation_config');
    const count = config.candidateCount;
    if (
      count !== undefined &&
      !(Number.isInteger(count) && (count as number) >= 1 && (count as number) <= 8)
    ) {
      return '* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8';
    }
    const max = config.maxOutputTokens;
    if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1)) {
      return '* GenerateContentRequest.generation_config.max_output_tokens: must be a positive integer';
    }
  }
  return undefined;
}

export function validateCountTokens(
  body: Record<string, unknown>,
  provider: MockProviderName,
): string | undefined {
  const unknown = firstUnknown(body, COUNT_TOKENS_FIELDS[provider] ?? new Set());
  if (unknown !== undefined) return unknownField(unknown);
  if (isRecord(body.generateContentRequest)) return undefined;
  if (!Array.isArray(body.contents)) return '* CountTokensRequest.contents: contents is not specified';
  return undefined;
}

export function validateEmbed(
  body: Record<string, unknown>,
  operation: string | undefined,
): string | undefined {
  const allowed = EMBED_FIELDS[operation ?? ''];
  if (!allowed) return `Unsupported embedding method ${String(operation)}.`;
  const unknown = firstUnknown(body, allowed);
  if (unknown !== undefined) return unknownField(unknown);
  if (operation === 'batchEmbedContents' && !(Array.isArray(body.requests) && body.requests.length > 0)) {
    return '* BatchEmbedContentsRequest.requests: requests is not specified';
  }
  if (operation === 'embedContent' && !isRecord(body.content)) {
    return '* EmbedContentRequest.content: content is not specified';
  }
  if (operation === 'predict' && !(Array.isArray(body.instances) && body.instances.length > 0)) {
    return 'instances must be a non-empty list';
  }
  return undefined;
}

/**
 * A function to call: only when the last turn is the user's own (no `functionResponse` in it)
 * and `toolConfig.functionCallingConfig.mode` allows it (`ANY` forces it; `AUTO` or none follows
 * the `toolCalls` knob). `parametersJsonSchema` or the OpenAPI-style `parameters` give the arguments.
 */
export function chooseFunction(
  body: Record<string, unknown>,
  policy: 'when-forced' | 'when-offered',
): ToolChoice | undefined {
  const declarations: Record<string, unknown>[] = [];
  for (const tool of Array.isArray(body.tools) ? body.tools : []) {
    if (!isRecord(tool) || !Array.isArray(tool.functionDeclarations)) continue;
    for (const declaration of tool.functionDeclarations) {
      if (isRecord(declaration) && typeof declaration.name === 'string') declarations.push(declaration);
    }
  }
  if (declarations.length === 0) return undefined;
  const contents = body.contents as unknown[];
  const last = contents[contents.length - 1];
  if (!isRecord(last) || (last.role !== undefined && last.role !== 'user')) return undefined;
  if (Array.isArray(last.parts) && last.parts.some((part) => isRecord(part) && part.functionResponse)) {
    return undefined;
  }
  const toolConfig = isRecord(body.toolConfig) ? body.toolConfig : {};
  const calling = isRecord(toolConfig.functionCallingConfig) ? toolConfig.functionCallingConfig : {};
  const mode = typeof calling.mode === 'string' ? calling.mode : 'AUTO';
  if (mode === 'NONE' || (mode !== 'ANY' && policy === 'when-forced')) return undefined;
  const allowed = Array.isArray(calling.allowedFunctionNames) ? calling.allowedFunctionNames : [];
  const wanted = declarations.find((declaration) => allowed.includes(declaration.name)) ?? declarations[0];
  if (!wanted) return undefined;
  return {
    name: wanted.name as string,
    schema: wanted.parametersJsonSchema ?? lowerCaseTypes(wanted.parameters ?? { type: 'object' }),
  };
}

/** JSON mode: `responseJsonSchema`, or the OpenAPI-style `responseSchema`, or any object. */
export function responseSchema(config: Record<string, unknown>): unknown {
  if (config.responseMimeType !== 'application/json') return undefined;
  if (config.responseJsonSchema !== undefined) return config.responseJsonSchema;
  if (config.responseSchema !== undefined) return lowerCaseTypes(config.responseSchema);
  return { type: 'object' };
}

/** Gemini's OpenAPI schemas spell types in capitals (`OBJECT`, `STRING`); JSON Schema does not. */
function lowerCaseTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(lowerCaseTypes);
  if (!isRecord(schema)) return schema;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    result[key] = key === 'type' && typeof value === 'string' ? value.toLowerCase() : lowerCaseTypes(value);
  }
  return result;
}
